"""The fuzz targets over their seed corpus and random inputs (atheris explores further with
`make fuzz`; these keep the targets and their properties honest in every test run)."""

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fuzz import targets


def test_seed_corpora_pass():
    for data in targets.wire_corpus():
        targets.wire(data)
    for data in targets.dns_corpus():
        targets.dns_query(data)


def _mutations(corpus):
    """Seeds with a byte flipped, a piece cut out or junk spliced in: near-valid inputs."""
    seeds = st.sampled_from(corpus)
    return st.one_of(
        st.binary(max_size=512),
        st.tuples(seeds, st.integers(0, 4096), st.integers(0, 255)).map(
            lambda t: t[0][:t[1] % (len(t[0]) + 1)] + bytes([t[2]]) + t[0][t[1] % (len(t[0]) + 1) + 1:]),
        st.tuples(seeds, st.integers(0, 4096), st.binary(max_size=16)).map(
            lambda t: t[0][:t[1] % (len(t[0]) + 1)] + t[2] + t[0][t[1] % (len(t[0]) + 1):]),
        st.tuples(seeds, st.integers(0, 4096)).map(lambda t: t[0][:t[1] % (len(t[0]) + 1)]))


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_mutations(targets.wire_corpus()))
def test_wire_decoders_only_ever_raise_wire_errors(data):
    targets.wire(data)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_mutations(targets.dns_corpus()))
def test_dns_handler_always_answers_or_drops(data):
    targets.dns_query(data)
