from setuptools import find_packages, setup

setup(
    name="concoord",
    version="2.0.0",
    description="Replicate ordinary Python objects with Multi-Paxos: locks, queues, counters, "
                "membership and your own classes, fault-tolerant over TCP.",
    long_description=open("README").read(),
    long_description_content_type="text/plain",
    packages=find_packages(include=["concoord", "concoord.*"]),
    python_requires=">=3.9",
    # msgspec: the wire codec (decodes and checks messages in C; wheels for every platform).
    # msgpack stays: the value codec, and the pure-Python wire path of the zipapp bundles.
    install_requires=["msgspec>=0.18", "msgpack>=1.0", "dnspython>=2.0", "paramiko>=2.7",
                      "prometheus-client>=0.12"],
    extras_require={"test": ["pytest", "pytest-timeout", "hypothesis", "playwright",
                             "pyyaml"],
                    "route53": ["boto3"], "plot": ["matplotlib"], "fuzz": ["atheris"],
                    # concoord bench --baseline: etcd3 0.12 breaks with protobuf 4
                    "baseline": ["etcd3", "protobuf<4", "kazoo"]},
    entry_points={"console_scripts": ["concoord = concoord.cli:main"]},
)
