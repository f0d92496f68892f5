import Foundation

/// Files that belong together (a `.trmg` and its external-data sidecar): replaced both or neither.
extension OutputFile {
    /// The regular file that `path` writes (links followed), or nil when it is a device, a FIFO
    /// or a descriptor, beside which no other file can sit.
    public static func regularFileTarget(of path: String) throws -> String? {
        if case .file(let target, _) = try destination(of: path) { return target }
        return nil
    }

    /// Replaces every file of `files` (each a regular file or a new one; links followed), in two
    /// phases: every temp file is written and synced first, so that a full disk, an I/O error or
    /// an interrupt leaves all the old files as they were; then they are renamed over their targets
    /// in the given order, with interrupts held back. Put the file that refers to the others last:
    /// its rename commits the group. (Only a crash between two renames, microseconds apart, can
    /// leave a new file beside an old one; readers of such pairs check that they belong together.)
    public static func replaceTogether(_ files: [(path: String, chunks: [UnsafeRawBufferPointer])]) throws {
        let targets = try files.map { file -> (String, mode_t?, (String) -> TRMError) in
            guard case .file(let target, let mode) = try destination(of: file.path) else {
                throw TRMError(.io, "cannot write \(file.path): it must be a regular file, as it is written together with other files")
            }
            return (target, mode, failure(file.path, target))
        }
        try InterruptDeferral.run {
            var temps: [String] = []
            var renamed = 0
            defer { for t in temps.dropFirst(renamed) { unlink(t) } }
            for (file, (target, mode, fail)) in zip(files, targets) {
                temps.append(try writeTemp(file.chunks, target: target, mode: mode, fail))
            }
            for (temp, (target, _, fail)) in zip(temps, targets) {
                try commit(temp, over: target, fail)
                renamed += 1
            }
        }
    }

    /// The path of a file named `name` in the directory of `path` (a bare name for a bare `path`).
    public static func sibling(of path: String, named name: String) -> String {
        path.contains("/") ? directory(of: path) + "/" + name : name
    }

    /// The last component of `path`.
    public static func fileName(of path: String) -> String { name(of: path) }
}
