"""The Archival Information Package itself: a signed BagIt bag with PREMIS and Dublin Core.

``package`` writes and reads bags, ``metadata`` the PREMIS and Dublin Core
records (validated against the vendored schemas), ``vocabulary`` the Library
of Congress terms both use, ``fixity`` the streaming digests, ``signing`` the
detached CMS signature over the tag manifest, ``timestamp`` RFC 3161 tokens,
and ``verify`` checks a package, stored or loose, with all of them.
"""
