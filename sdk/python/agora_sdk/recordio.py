"""RecordIO, the framing of the Mesos v1 streaming APIs.

Each record is its length in decimal ASCII, a newline, then that many
bytes: ``b"5\\nhello"``. The SUBSCRIBE streams of ``/api/v1/scheduler``
and ``/api/v1/executor`` are a sequence of records, each one JSON event.
"""

__all__ = ["RecordIOError", "Reader", "encode"]

# Digits of the longest length accepted (a length header that grows
# past this without a newline is garbage, not a slow sender).
_MAX_DIGITS = 20


class RecordIOError(ValueError):
    """The stream is not RecordIO; the reader cannot go on."""


def encode(record):
    """One record: ``len(record)`` in decimal, a newline, then ``record``
    (bytes, or str encoded as UTF-8)."""
    if isinstance(record, str):
        record = record.encode("utf-8")
    return b"%d\n" % len(record) + bytes(record)


class Reader:
    """Incremental decoder: ``feed(data)`` takes whatever the socket gave
    (a part of a length, of a record, or many records) and returns the
    records completed by it, as bytes, in order. A record larger than
    ``max_record`` bytes, or a length that is not decimal digits, is an
    error: ``failed`` says why, and feed raises RecordIOError (at once, or
    at the next feed when it returned the good records before the bad
    bytes), as does every later feed."""

    def __init__(self, max_record=256 * 1024 * 1024):
        self.max_record = max_record
        self._buf = bytearray()
        self._want = None  # length of the record being read; None: in a header
        self._failed = None

    def feed(self, data):
        if self._failed:
            raise RecordIOError(self._failed)
        self._buf += data
        out = []
        try:
            self._parse(out)
        except RecordIOError:
            if not out:
                raise
            # The records before the bad bytes are good: returned now, the
            # error at the next feed (and in ``failed``).
        return out

    @property
    def failed(self):
        """Why the stream is bad (a str), or None."""
        return self._failed

    def _parse(self, out):
        while True:
            if self._want is None:
                nl = self._buf.find(b"\n")
                if nl < 0:
                    if len(self._buf) > _MAX_DIGITS:
                        self._fail("a record length of more than %d digits" % _MAX_DIGITS)
                    if self._buf and not self._buf.isdigit():
                        self._fail("a record length that is not decimal: %r" % bytes(self._buf[:32]))
                    return
                head = bytes(self._buf[:nl])
                if not head or not head.isdigit():
                    self._fail("a record length that is not decimal: %r" % head[:32])
                n = int(head)
                if n > self.max_record:
                    self._fail("a record of %d bytes (at most %d)" % (n, self.max_record))
                del self._buf[: nl + 1]
                self._want = n
            if len(self._buf) < self._want:
                return
            out.append(bytes(self._buf[: self._want]))
            del self._buf[: self._want]
            self._want = None

    def partial(self):
        """True when bytes are held that do not make a whole record yet
        (a stream that ends here was cut inside a record)."""
        return bool(self._buf) or self._want is not None

    def _fail(self, why):
        self._failed = "bad RecordIO stream: " + why
        raise RecordIOError(self._failed)
