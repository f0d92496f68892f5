# The trm version these bindings belong to: TRMVersion.string in Sources/TRMCore (a test checks the two agree).
__version__ = "0.2.0"
