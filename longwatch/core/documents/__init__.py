"""Documents a public body files: PDF/A with tagged structure, made from the HTML the archive already writes.

``pdfa.py`` is the one module that imports WeasyPrint; ``fonts.py`` finds a
font that covers Korean through fontconfig, never by a path of one
distribution.
"""
