import Foundation

/// Whole-file reads and atomic writes (temp file in the same directory + fsync + rename), so an
/// interrupted write never leaves a half-written file under the final name.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(chunks: [$0], to: path) }
    }

    /// Writes the concatenation of `chunks` to `path` atomically. SIGINT, SIGTERM and SIGHUP are
    /// held back until the file is complete under its final name (or its temp file is removed), so
    /// Ctrl-C never leaves a stray temp file; only SIGKILL can, and that file is hidden.
    public static func write(chunks: [UnsafeRawBufferPointer], to path: String) throws {
        try InterruptDeferral.run { try writeUninterrupted(chunks: chunks, to: path) }
    }

    private static func writeUninterrupted(chunks: [UnsafeRawBufferPointer], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TRMError(.io, "cannot write \(path): directory \(dir) does not exist")
        }
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw TRMError(.io, "cannot create \(temp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            for chunk in chunks {
                var done = 0
                while done < chunk.count {
                    let n = Foundation.write(fd, chunk.baseAddress! + done, chunk.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw TRMError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw TRMError(.io, "cannot sync \(path): \(String(cString: strerror(errno)))") }
        }
        guard rename(temp, path) == 0 else {
            throw TRMError(.io, "cannot rename \(temp) to \(path): \(String(cString: strerror(errno)))")
        }
        ok = true
    }

    /// Reads a whole file, refusing files larger than `limit` bytes before reading them.
    /// Fails early, before a long computation, when `path` could not be written: its directory is
    /// missing or not writable.
    public static func checkWritable(_ path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TRMError(.io, "cannot write \(path): directory \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else { throw TRMError(.io, "cannot write \(path): directory \(dir) is not writable") }
    }

    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw TRMError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TRMError(.io, "\(path) is not a regular file") }
        guard Int(st.st_size) <= limit else {
            throw TRMError(.malformedFile, "\(path) is \(st.st_size) bytes, over the \(limit)-byte limit")
        }
        let available = SystemMemory.availableBytes()
        guard Int(st.st_size) <= available else {
            throw TRMError(.io, "\(path) is \(st.st_size) bytes, more than the \(available) bytes of memory available to read it into")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TRMError(.io, "cannot open \(path)") }
        defer { try? handle.close() }
        let data = (try? handle.readToEnd()) ?? Data()
        return [UInt8](data)
    }
}
