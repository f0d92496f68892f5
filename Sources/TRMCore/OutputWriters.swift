import Foundation

/// The three ways `OutputFile.write` puts bytes on disk, one per kind of destination.
extension OutputFile {
    /// How often a FIFO is tried again while it has no reader.
    static let fifoPollMicroseconds: useconds_t = 50_000

    /// Temp file in the target's directory, fsync, rename over the target: an interrupted write
    /// never leaves a half-written file under the final name. `mode` is the replaced file's
    /// permission bits, kept so that replacing a file does not widen or narrow who may read it.
    static func replaceAtomically(
        _ chunks: [UnsafeRawBufferPointer], target: String, mode: mode_t?,
        _ fail: (String) -> TRMError
    ) throws {
        let temp = try writeTemp(chunks, target: target, mode: mode, fail)
        var renamed = false
        defer {
            if !renamed { unlink(temp) }
        }
        try commit(temp, over: target, fail)
        renamed = true
    }

    /// Writes `chunks` to a new, hidden temp file beside `target` and syncs it; returns its path.
    /// Nothing is left behind when this fails.
    static func writeTemp(
        _ chunks: [UnsafeRawBufferPointer], target: String, mode: mode_t?, _ fail: (String) -> TRMError
    ) throws -> String {
        let dir = directory(of: target)
        let temp = dir + "/." + name(of: target) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create \(temp): " + String(cString: strerror(errno))) }
        do {
            defer { close(fd) }
            if let mode, fchmod(fd, mode) != 0 { throw fail("cannot set the mode of \(temp): " + String(cString: strerror(errno))) }
            try writeAll(chunks, to: fd, fail)
            guard fsync(fd) == 0 else { throw fail("cannot sync: " + String(cString: strerror(errno))) }
        } catch {
            unlink(temp)
            throw error
        }
        return temp
    }

    /// Renames a complete temp file over `target`, unless `target` stopped being a regular file.
    static func commit(_ temp: String, over target: String, _ fail: (String) -> TRMError) throws {
        // Resolved before the write: a device, FIFO or link put in its place since must not be replaced.
        var st = stat()
        if lstat(target, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            throw fail("it stopped being a regular file while it was written; left as it is")
        }
        guard rename(temp, target) == 0 else {
            throw fail("cannot rename \(temp) over it: " + String(cString: strerror(errno)))
        }
    }

    /// Opens a device or FIFO without O_CREAT or O_TRUNC and writes it in place. `fifoWait` (nil for
    /// a device) bounds the wait for a FIFO's reader: opening with O_NONBLOCK fails with ENXIO while
    /// nobody reads, so a FIFO without a reader is an error after the wait instead of a hang.
    static func writeInPlace(
        _ chunks: [UnsafeRawBufferPointer], target: String, fifoWait: Double?,
        _ fail: (String) -> TRMError
    ) throws {
        // O_NOFOLLOW: the target was resolved to a non-link; a link swapped in since is not followed.
        let flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW
        let fd: Int32
        if let fifoWait {
            fd = try openFIFO(target, flags: flags, wait: fifoWait, fail)
        } else {
            fd = try openRetrying(target, flags: flags, fail)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail(String(cString: strerror(errno))) }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK || kind == S_IFIFO else {
            throw fail("it stopped being a device or FIFO before it was opened; not written")
        }
        try writeAll(chunks, to: fd, fail)
        try syncIfSupported(fd, fail)
    }

    /// Writes to an already open descriptor (`/dev/stdout` and the like) without closing it.
    static func writeDescriptor(_ chunks: [UnsafeRawBufferPointer], fd: Int32, _ fail: (String) -> TRMError) throws {
        _ = try descriptorFlags(fd, fail)
        // Text already printed through stdio's buffers comes before these bytes, as the user reads it.
        fflush(nil)
        try writeAll(chunks, to: fd, fail)
        try syncIfSupported(fd, fail)
    }

    /// `fd`'s status flags; fails unless it is open for writing.
    static func descriptorFlags(_ fd: Int32, _ fail: (String) -> TRMError) throws -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw fail("file descriptor \(fd) is not open") }
        guard flags & O_ACCMODE != O_RDONLY else { throw fail("file descriptor \(fd) is open for reading only") }
        return flags
    }

    private static func openRetrying(_ path: String, flags: Int32, _ fail: (String) -> TRMError) throws -> Int32 {
        while true {
            let fd = open(path, flags)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail(String(cString: strerror(errno))) }
        }
    }

    private static func openFIFO(_ path: String, flags: Int32, wait: Double, _ fail: (String) -> TRMError) throws -> Int32 {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let fd = open(path, flags | O_NONBLOCK)
            if fd >= 0 {
                // Blocking writes from here on: the reader sets the pace, as with any pipe.
                let current = fcntl(fd, F_GETFL)
                guard current >= 0, fcntl(fd, F_SETFL, current & ~O_NONBLOCK) == 0 else {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw fail("cannot make the FIFO blocking: " + reason)
                }
                return fd
            }
            let e = errno
            if e == EINTR { continue }
            guard e == ENXIO else { throw fail(String(cString: strerror(e))) }
            guard Date() < deadline else {
                throw fail("no process opened the FIFO for reading within \(String(format: "%g", wait)) s")
            }
            usleep(fifoPollMicroseconds)
        }
    }

    /// Writes every byte, retrying short writes and EINTR, waiting out EAGAIN on a non-blocking
    /// descriptor. EPIPE (SIGPIPE is ignored meanwhile) means the reader went away.
    private static func writeAll(_ chunks: [UnsafeRawBufferPointer], to fd: Int32, _ fail: (String) -> TRMError) throws {
        for chunk in chunks where chunk.count > 0 {
            var done = 0
            while done < chunk.count {
                let n = Foundation.write(fd, chunk.baseAddress! + done, chunk.count - done)
                if n > 0 {
                    done += n
                    continue
                }
                let e = n == 0 ? EIO : errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, -1)
                    continue
                }
                if e == EPIPE { throw fail("the reader closed it before everything was written (broken pipe)") }
                throw fail(String(cString: strerror(e)))
            }
        }
    }

    /// fsync, where the descriptor supports it: pipes, terminals and many devices answer EINVAL or
    /// EOPNOTSUPP, which says nothing about the bytes written.
    private static func syncIfSupported(_ fd: Int32, _ fail: (String) -> TRMError) throws {
        guard fsync(fd) != 0 else { return }
        let e = errno
        guard e == EINVAL || e == EOPNOTSUPP || e == EROFS else { throw fail("cannot sync: " + String(cString: strerror(e))) }
    }
}
