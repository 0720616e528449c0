# ConCoord in a container: one image for every role (replica, acceptor, nameserver, dashboard).
#   docker build -t concoord .
#   docker run --rm concoord --help
# docker-compose.yml runs a whole instance from it; README section 10 shows both.
FROM python:3.11-slim

# Nodes never run as root: they need no privileges (the nameserver answers on 5353).
RUN useradd --system --create-home --home-dir /var/lib/concoord --shell /usr/sbin/nologin \
        concoord

COPY setup.py README /src/
COPY concoord /src/concoord
RUN pip install --no-cache-dir /src && rm -rf /src

# The object to replicate: the README's Counter (mount or COPY your own over /objects).
COPY docker/counter.py /objects/counter.py
WORKDIR /objects

# Replicas and acceptors keep their state here (--data-dir /data); mount a volume on it (a new
# named volume takes this directory's owner: the node's user).
RUN mkdir /data && chown concoord:concoord /data
VOLUME /data
USER concoord
# 14000: the node's port; 9100: --metrics-port; 5353: the nameserver's DNS; 8080: dashboard.
EXPOSE 14000 9100 5353/udp 5353/tcp 8080
ENV PYTHONHASHSEED=0 PYTHONUNBUFFERED=1
ENTRYPOINT ["concoord"]
CMD ["--help"]
