"""The network layer: the only package (with ``archiver.capture``) that talks to the network.

- ``client``: ``ClientPool``, the httpx clients, pacing, limits; one request at a time;
- ``connect_to``: ``--connect-to`` origin mappings and the transport that applies them;
- ``guard``: the address guard (no private, loopback, link-local... destinations);
- ``retry``: whether and when to try again, as a pure decision;
- ``pacing``: per-host concurrency and spacing;
- ``body``: reading a body with the size limit counted after decompression.
"""
