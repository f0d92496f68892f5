import Foundation
import GraphIR
import Tasks
import Testing

/// `trm-train --init FILE`: a stage that starts from another checkpoint's weights records where they came
/// from (`TrainingOrigin`): the file's path, SHA-256 and `trm.train`, kept across `--resume` and chained
/// from stage to stage; a checkpoint of another config is refused.
@Suite struct TrainInitOriginTests {
    /// The checkpoint's `trm.train` record as a JSON object.
    static func train(_ path: String) throws -> [String: Any] {
        let text = try #require(try Checkpoint.read(path: path).trainJSON)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func stagesNameTheCheckpointTheyStartedFrom() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = TrainerHardeningTests.tiny + ["--warmup", "1"]
        let first = dir + "/stage1.ckpt", second = dir + "/stage2.ckpt", third = dir + "/stage3.ckpt"

        let r1 = try Executables.run("trm-train", base + ["--steps", "2", "-o", first])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(try Self.train(first)["init"] == nil, "a run from the reference initialisation has no origin")

        let r2 = try Executables.run("trm-train", base + ["--steps", "2", "--init", first, "-o", second])
        #expect(r2.status == 0, "\(r2.stderr)")
        let origin = try #require(try Self.train(second)["init"] as? [String: Any])
        #expect(origin["path"] as? String == first)
        #expect(origin["sha256"] as? String == (try ContentHash.sha256(path: first)))
        #expect((origin["train"] as? [String: Any])?["step"] as? Int == 2, "the start checkpoint's own record")

        // Resumed without --init, the record comes from the state.
        let r3 = try Executables.run("trm-train", base + ["--steps", "3", "--resume", "-o", second])
        #expect(r3.status == 0, "\(r3.stderr)")
        let resumed = try Self.train(second)
        #expect(resumed["step"] as? Int == 3)
        #expect((resumed["init"] as? [String: Any])?["path"] as? String == first)

        // A third stage names the second, whose record names the first.
        let r4 = try Executables.run("trm-train", base + ["--steps", "1", "--init", second, "-o", third])
        #expect(r4.status == 0, "\(r4.stderr)")
        let chained = try #require(try Self.train(third)["init"] as? [String: Any])
        #expect(chained["path"] as? String == second)
        let before = ((chained["train"] as? [String: Any])?["init"] as? [String: Any])?["path"] as? String
        #expect(before == first)
    }

    @Test func aCheckpointOfAnotherConfigIsRefused() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let start = dir + "/wide.ckpt", out = dir + "/m.ckpt"
        let wide = try Executables.run(
            "trm-train", ["init", "--task", "sudoku", "--grid", "4", "--preset", "trm-attn", "--hidden", "64", "--heads", "4", "-o", start])
        #expect(wide.status == 0, "\(wide.stderr)")
        let r = try Executables.run("trm-train", TrainerHardeningTests.tiny + ["--steps", "1", "--init", start, "-o", out])
        #expect(r.status == 2, "a usage error")
        #expect(r.stderr.contains("its config is not the one these options give"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".state"))
    }
}
