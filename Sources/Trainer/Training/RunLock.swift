import Foundation
import GraphIR
import TRMCore

/// An exclusive lock on a training run's output, so two trainers never write the same checkpoint,
/// state sidecar and metrics log. The lock is `flock(2)` on `FILE.lock` beside the checkpoint
/// (not on the `.state` itself, which atomic writes replace by a new file), held for the life of
/// the run; the file holds the owner's PID so that a second trainer can name it. The kernel drops
/// the lock when its owner dies, so a killed run never leaves a lock that blocks the next one.
public final class RunLock {
    /// The lock file.
    public let path: String
    private var fd: Int32 = -1

    /// Takes the lock for `output`, or throws an error naming the PID of the run that holds it.
    public init(output: String) throws {
        path = output + ".lock"
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw TRMError(.io, "cannot create the run lock \(path): \(String(cString: strerror(errno)))") }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let owner = Self.owner(fd)
                close(fd)
                throw TRMError(
                    .io,
                    "\(output) is being written by another trm-train run (\(owner.map { "PID \($0)" } ?? "PID unknown"), lock \(path)): "
                        + "wait for it to finish or stop it first")
            }
            // A run that finished between our open and flock removed the file we locked: only a lock
            // on the file still at `path` counts, so try again with the new one.
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_dev == current.st_dev, held.st_ino == current.st_ino {
                self.fd = fd
                break
            }
            close(fd)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock and removes its file (idempotent). Removing before closing keeps a run
    /// that is waiting in `init` from taking a lock on a file that is about to disappear.
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }

    private static func owner(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
