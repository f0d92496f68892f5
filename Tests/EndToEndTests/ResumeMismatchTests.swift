import Foundation
import Testing

/// `trm-train --resume` with other settings than the saved run's: refused, naming exactly the fields
/// that differ with both values (not the two settings objects), and the saved run is left alone.
@Suite struct ResumeMismatchTests {
    @Test func theRefusalNamesTheChangedFields() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.ckpt"
        let base = TrainerHardeningTests.tiny + ["--steps", "2", "--warmup", "1", "-o", out]
        let first = try Executables.run("trm-train", base + ["--lr", "1e-3", "--seed", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let state = try Data(contentsOf: URL(fileURLWithPath: out + ".state"))

        let r = try Executables.run("trm-train", base + ["--lr", "3e-3", "--seed", "2", "--resume"])
        #expect(r.status == 1, "\(r.stdout)")
        #expect(
            r.stderr.contains(
                "it was written with other training options: lr differs (saved 0.001, now 0.003), seed differs (saved 1, now 2);"),
            "\(r.stderr)")
        #expect(!r.stderr.contains("{") && !r.stderr.contains("batch"), "only the changed fields: \(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + ".state")) == state)

        let same = try Executables.run("trm-train", base + ["--lr", "1e-3", "--seed", "1", "--resume"])
        #expect(same.status == 0, "the saved settings resume: \(same.stderr)")
    }
}
