"""The declared contract between the Applier and its object (host/state_machine.py)."""


def test_the_daemons_and_the_simulator_apply_through_the_declared_contract():
    from concoord.objects.counter import Counter
    from concoord.host.state_machine import StateMachine
    from concoord.host.object_host import ObjectHost
    from tests.sim.model import AppendLog
    assert isinstance(ObjectHost(Counter), StateMachine)
    assert isinstance(AppendLog(), StateMachine)
