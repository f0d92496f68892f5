import Foundation

/// Whole-file reads, and writes by the output policy of `OutputFile`: a regular file is replaced
/// atomically (temp file in the same directory + fsync + rename), so an interrupted write never
/// leaves a half-written file under the final name; links are followed; devices, FIFOs and
/// `/dev/stdout` are written in place. Every trm file writer comes through here.
public enum AtomicFile {
    /// Writes `bytes` to `path` (see `OutputFile`).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try OutputFile.write(chunks: [$0], to: path) }
    }

    /// Writes the concatenation of `chunks` to `path`. When a regular file is replaced, SIGINT,
    /// SIGTERM and SIGHUP are held back until the file is complete under its final name (or its
    /// temp file is removed), so Ctrl-C never leaves a stray temp file; only SIGKILL can, and that
    /// file is hidden.
    public static func write(chunks: [UnsafeRawBufferPointer], to path: String) throws {
        try OutputFile.write(chunks: chunks, to: path)
    }

    /// Fails early, before a long computation, when `path` could not be written (see
    /// `OutputFile.checkWritable`; commands with inputs use `OutputFile.checkOutputs`).
    public static func checkWritable(_ path: String) throws {
        try OutputFile.checkWritable(path)
    }

    /// Reads a whole file, refusing files larger than `limit` bytes before reading them.
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
        // Straight into the array (no intermediate Data): one copy of the file in memory, not two.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TRMError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let size = Int(st.st_size)
        // Files that report no size (/proc, /sys) are read to their end.
        if size == 0 { return [UInt8]((try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).readToEnd()) ?? Data()) }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let n = Foundation.read(fd, buffer.baseAddress! + count, size - count)
                if n > 0 {
                    count += n
                } else if n == 0 {
                    break  // the file shrank since stat: what is there
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
        }
        guard failure == 0 else { throw TRMError(.io, "cannot read \(path): \(String(cString: strerror(failure)))") }
        return bytes
    }
}
