import Foundation

/// A whole regular file mapped read-only (`mmap` with `PROT_READ`, `MAP_PRIVATE`) and unmapped when
/// the last reference goes: the one place trm maps files. Pages are read from the page cache when
/// first touched, so opening a large file costs neither time nor memory up front. Writes through
/// the mapping are impossible (a stray store faults instead of changing the weights).
///
/// A mapping keeps the file's inode: replacing the file by rename (as every trm writer does)
/// leaves this mapping valid. Truncating the mapped file in place from outside makes later reads of
/// the lost pages fault, as with any mapping.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's size in bytes when it was mapped.
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps the regular file at `path`; a missing or unreadable file is an `.io` error, a mapping the
    /// address space cannot hold an `.outOfMemory` one.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TRMError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TRMError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TRMError(.io, "\(path) is not a regular file") }
        count = Int(st.st_size)
        guard count > 0 else {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            let e = errno
            throw TRMError(e == ENOMEM ? .outOfMemory : .io, "cannot map \(path) (\(count) bytes): \(String(cString: strerror(e)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Bytes `offset ..< offset + count` of the file, or nil when they are not all inside it.
    public func bytes(offset: Int, count n: Int) -> MappedBytes? {
        guard offset >= 0, n >= 0, offset <= count, n <= count - offset else { return nil }
        return MappedBytes(file: self, offset: offset, count: n)
    }

    fileprivate func address(_ offset: Int) -> UnsafeRawPointer? { base.map { $0 + offset } }

    /// Drops the resident pages of bytes `offset ..< offset + count` (widened to whole pages) from
    /// this process, so that a reader converting a large file chunk by chunk holds one chunk of it
    /// in memory, not the whole file. Later reads fault the pages in again from the page cache: the
    /// mapping is read-only and private, so no content is lost.
    public func discard(offset: Int, count n: Int) {
        guard let base, offset >= 0, n > 0, offset < count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(count, offset + n)
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
}

/// A range of a `MappedFile`, which it keeps mapped.
public struct MappedBytes: Sendable {
    public let file: MappedFile
    public let offset: Int
    public let count: Int

    /// Calls `body` with the bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: count == 0 ? nil : file.address(offset), count: count))
    }

    /// Whether the bytes start at a multiple of `alignment` in memory (the mapping starts on a page).
    public func isAligned(to alignment: Int) -> Bool { offset % alignment == 0 }

    /// The first byte's address, valid for as long as `file` is alive: for holders (the runtime's
    /// loaded model) that keep `file` for the life of every pointer they derive from it. Nil when empty.
    public var unsafeAddress: UnsafeRawPointer? { count == 0 ? nil : file.address(offset) }
}
