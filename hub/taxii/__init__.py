"""The TAXII 2.1 feed (PROTOCOL.md section 11): what a partner may pull, as STIX 2.1 over TAXII.

``stix`` builds the objects with the OASIS stix2 library, ``feed`` computes a
partner's collection from the stored records on the pull's cursor, ``routes``
serves it. Nothing here writes: the feed is read-only and marks no delivery.
"""
