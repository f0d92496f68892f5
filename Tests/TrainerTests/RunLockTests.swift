import Foundation
import Testing
@testable import Trainer

/// One trainer per output (issue: hardening, second round, defect 7).
@Suite struct RunLockTests {
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-lock-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func secondLockOnTheSameOutputIsRefusedWithTheOwnersPID() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try RunLock(output: dir + "/m.ckpt")
        #expect(FileManager.default.fileExists(atPath: dir + "/m.ckpt.lock"))
        // flock belongs to an open file, so a second lock in the same process conflicts like another process's.
        #expect {
            _ = try RunLock(output: dir + "/./m.ckpt")
        } throws: { error in
            "\(error)".contains("PID \(getpid())") && "\(error)".contains("another trm-train")
        }
        first.release()
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.ckpt.lock"))
        let again = try RunLock(output: dir + "/m.ckpt")
        again.release()
    }

    @Test func aStaleLockFileDoesNotBlock() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A run that was killed leaves its file (with its PID) but not its lock.
        try Data("999999\n".utf8).write(to: URL(fileURLWithPath: dir + "/m.ckpt.lock"))
        let lock = try RunLock(output: dir + "/m.ckpt")
        let owner = try String(contentsOfFile: dir + "/m.ckpt.lock", encoding: .utf8)
        #expect(owner == "\(getpid())\n")
        lock.release()
    }

    @Test func differentOutputsDoNotConflict() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try RunLock(output: dir + "/a.ckpt"), b = try RunLock(output: dir + "/b.ckpt")
        a.release()
        b.release()
    }
}
