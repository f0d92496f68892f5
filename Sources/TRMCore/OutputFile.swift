import Foundation

/// The one output policy of every trm tool. A path is resolved (`destination(of:)`) and then:
/// - a regular file, or a path that does not exist yet, is replaced atomically (temp file beside
///   it, fsync, rename), keeping an existing file's permission bits;
/// - a symbolic link (or a chain of them) is followed and its final target written by these rules;
///   the link stays a link;
/// - a character or block device or a FIFO is written in place and never replaced, so
///   `-o /dev/null` works as in every Unix tool;
/// - `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` write to that open descriptor;
/// - sockets and directories are refused.
/// `checkOutputs(_:inputs:)` runs the same resolution before a command's work and refuses an output
/// that is one of the command's inputs.
public enum OutputFile {
    /// How long a FIFO waits for a reader before the write fails.
    public static let fifoReaderWait: Double = 10

    /// Writes the concatenation of `chunks` to `path` by the policy above.
    public static func write(chunks: [UnsafeRawBufferPointer], to path: String) throws {
        try write(chunks: chunks, to: path, fifoReaderWait: fifoReaderWait)
    }

    /// `write(chunks:to:)` with the FIFO's wait for a reader as a parameter (tests shorten it).
    static func write(chunks: [UnsafeRawBufferPointer], to path: String, fifoReaderWait wait: Double) throws {
        switch try destination(of: path) {
        case .file(let target, let mode):
            // Interrupts wait until the temp file is renamed or removed, so Ctrl-C leaves no stray file.
            let fail = failure(path, target)
            try InterruptDeferral.run { try replaceAtomically(chunks, target: target, mode: mode, fail) }
        case .device(let target):
            // Not deferred: there is nothing to clean up, and a blocked write must stay interruptible.
            try BrokenPipe.ignored { try writeInPlace(chunks, target: target, fifoWait: nil, failure(path, target)) }
        case .fifo(let target):
            try BrokenPipe.ignored { try writeInPlace(chunks, target: target, fifoWait: wait, failure(path, target)) }
        case .descriptor(let fd):
            try BrokenPipe.ignored { try writeDescriptor(chunks, fd: fd, failure(path, path)) }
        }
    }

    /// Fails early, before a long computation, when `path` could not be written: a missing or
    /// read-only directory, a socket or directory in its place, a link loop, a closed descriptor.
    /// Never opens a FIFO (its reader may start later).
    public static func checkWritable(_ path: String) throws {
        try checkWritable(destination(of: path), path)
    }

    /// The check every command makes before its work: each output is writable (`checkWritable`),
    /// no output is the same file as an input (compared by device and inode after following links,
    /// hard links included), and no two outputs are the same file. Only regular files (and paths
    /// still to be created) can clash: two outputs on one null device are fine. Inputs that do not
    /// exist are skipped; reading them reports that.
    public static func checkOutputs(_ outputs: [String], inputs: [String]) throws {
        let inputKeys = inputs.map { (path: $0, key: inputKey($0)) }
        var seen: [(path: String, key: FileKey)] = []
        for output in outputs {
            let destination = try destination(of: output)
            try checkWritable(destination, output)
            guard let key = outputKey(destination) else { continue }
            if let input = inputKeys.first(where: { $0.key == key }) {
                throw TRMError(.invalidInput, "output \(output) is the same file as the input \(input.path); refusing to overwrite it")
            }
            if let other = seen.first(where: { $0.key == key }) {
                throw TRMError(.invalidInput, "outputs \(other.path) and \(output) are the same file; refusing to write it twice")
            }
            seen.append((output, key))
        }
    }

    private static func checkWritable(_ destination: Destination, _ path: String) throws {
        switch destination {
        case .file(let target, _):
            let dir = directory(of: target)
            guard access(dir, W_OK) == 0 else { throw failure(path, target)("directory \(dir) is not writable") }
        case .device(let target), .fifo(let target):
            guard access(target, W_OK) == 0 else { throw failure(path, target)(String(cString: strerror(errno))) }
        case .descriptor(let fd):
            _ = try descriptorFlags(fd, failure(path, path))
        }
    }

    /// What makes two paths the same file: an existing file's device and inode, or, for a file
    /// still to be created, its canonical path.
    private enum FileKey: Equatable {
        case inode(dev_t, ino_t)
        case path(String)
    }

    private static func inputKey(_ path: String) -> FileKey? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return .inode(st.st_dev, st.st_ino)
    }

    private static func outputKey(_ destination: Destination) -> FileKey? {
        var st = stat()
        switch destination {
        case .file(let target, .some):
            guard stat(target, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return .inode(st.st_dev, st.st_ino)
        case .file(let target, nil):
            guard let dir = realpath(directory(of: target), nil) else { return .path(target) }
            defer { free(dir) }
            return .path(String(cString: dir) + "/" + name(of: target))
        case .descriptor(let fd):
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return .inode(st.st_dev, st.st_ino)
        case .device, .fifo:
            return nil
        }
    }

    /// Builds the errors of one write: "cannot write PATH (a link to TARGET): reason".
    static func failure(_ path: String, _ target: String) -> (String) -> TRMError {
        let label = "cannot write \(path)" + (target == path ? "" : " (a link to \(target))")
        return { reason in TRMError(.io, label + ": " + reason) }
    }
}
