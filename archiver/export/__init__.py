"""The archive leaving in the formats the field reads, and coming back.

``warc`` and ``wacz`` write the HTTP exchanges for web archives and replay tools;
``warc_import`` reads WARCs back through ``Store``; ``tables`` writes tables and
queries as JSON Lines or CSV and ID lists; ``queries`` holds the SQL of the
canned queries, the dashboard and ``archiver stats``; ``metadata`` builds what
Datasette shows. Everything here reads the archive through ``source.Source``,
which cannot write.
"""
