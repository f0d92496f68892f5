import Foundation

extension OutputFile {
    /// Where the bytes for an output path go, decided once by `destination(of:)` for every writer.
    public enum Destination: Equatable, Sendable {
        /// A regular file (`existingMode` holds its permission bits) or a path that does not exist
        /// yet: `path` (the target after following links) is replaced atomically.
        case file(path: String, existingMode: mode_t?)
        /// A character or block device: written in place, never replaced.
        case device(path: String)
        /// A named pipe: written in place once a reader has opened it.
        case fifo(path: String)
        /// `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`…: written to the open descriptor.
        case descriptor(Int32)

        /// What the destination is, for messages ("a character device").
        public var kindDescription: String {
            switch self {
            case .file(_, let mode): return mode == nil ? "a new file" : "a regular file"
            case .device: return "a device"
            case .fifo: return "a FIFO (named pipe)"
            case .descriptor(let fd): return "file descriptor \(fd)"
            }
        }

        /// True for a regular file or a new one: a destination that other files can sit beside.
        public var isFile: Bool {
            if case .file = self { return true }
            return false
        }
    }

    /// Symbolic links followed before giving up (Linux's own limit is 40).
    static let maxLinkHops = 40

    /// Resolves `path` to its destination: follows symbolic links (relative ones against the
    /// link's directory) to the final target, recognises file-descriptor aliases at every hop, and
    /// refuses sockets, directories and link loops. Why here, once: every writer must agree on
    /// what a path means, or one of them replaces a device or a link that the others respect.
    public static func destination(of path: String) throws -> Destination {
        guard !path.isEmpty else { throw TRMError(.invalidInput, "cannot write an output with an empty path") }
        var current = path
        var hops = 0
        func fail(_ reason: String) -> TRMError {
            TRMError(.io, "cannot write \(path)" + (current == path ? "" : " (a link to \(current))") + ": " + reason)
        }
        while true {
            if let fd = descriptorAlias(current) { return .descriptor(fd) }
            // A trailing slash promises a directory; creating a file there would surprise.
            if current.hasSuffix("/") { throw fail("it names a directory") }
            var st = stat()
            guard lstat(current, &st) == 0 else {
                let e = errno
                guard e == ENOENT else { throw fail(String(cString: strerror(e))) }
                let dir = directory(of: current)
                var ds = stat()
                guard stat(dir, &ds) == 0, (ds.st_mode & S_IFMT) == S_IFDIR else {
                    throw fail("directory \(dir) does not exist")
                }
                return .file(path: current, existingMode: nil)
            }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                hops += 1
                guard hops <= maxLinkHops else {
                    throw fail("more than \(maxLinkHops) symbolic links to follow (a loop?)")
                }
                let target = try readLink(current, fail)
                current = target.hasPrefix("/") ? target : directory(of: current) + "/" + target
            case S_IFREG: return .file(path: current, existingMode: st.st_mode & 0o777)
            case S_IFCHR, S_IFBLK: return .device(path: current)
            case S_IFIFO: return .fifo(path: current)
            case S_IFSOCK: throw fail("it is a socket; outputs go to files, devices or FIFOs")
            case S_IFDIR: throw fail("it is a directory")
            default: throw fail("it is not a file, device or FIFO")
            }
        }
    }

    /// The descriptor that `/dev/stdout`, `/dev/stderr`, `/dev/stdin`, `/dev/fd/N` or
    /// `/proc/{self,thread-self,PID}/fd/N` names, or nil. These resolve through /proc to
    /// `pipe:[123]` or to the file a shell redirected into; replacing that file by rename would
    /// lose the output, so they are written through the descriptor itself.
    static func descriptorAlias(_ path: String) -> Int32? {
        var absolute = path
        if !absolute.hasPrefix("/") {
            // A relative path is an alias only when the working directory is in /dev or /proc.
            guard let cwd = currentDirectory(), cwd.hasPrefix("/dev") || cwd.hasPrefix("/proc") else { return nil }
            absolute = cwd + "/" + absolute
        }
        let parts = absolute.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        switch parts.count {
        case 2 where parts[0] == "dev":
            return ["stdin": 0, "stdout": 1, "stderr": 2][String(parts[1])]
        case 3 where parts[0] == "dev" && parts[1] == "fd":
            return Int32(parts[2])
        case 4 where parts[0] == "proc" && parts[2] == "fd" && ["self", "thread-self", "\(getpid())"].contains(String(parts[1])):
            return Int32(parts[3])
        default:
            return nil
        }
    }

    /// The directory part of `path` ("." for a bare name), without touching the file system.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// The last component of `path`.
    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func readLink(_ path: String, _ fail: (String) -> TRMError) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw fail("cannot read the link: " + String(cString: strerror(errno))) }
        guard n > 0 else { throw fail("the link is empty") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func currentDirectory() -> String? {
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}
