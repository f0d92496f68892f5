import Foundation
import GraphIR
import Testing

/// Options and inputs are checked before the first piece of work, and empty inputs are errors
/// (issue: hardening, second round, defect 9). Each case would otherwise run to the end first:
/// the pass@K report or a timing line on stdout shows that it did.
@Suite struct OptionValidationTests {
    @Test func trmRunChecksOptionsBeforeRunning() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (bad, mentions) in [
            (["--show", "-1"], "--show"), (["--submission", dir + "/s.json"], "--submission"),
            (["--k", "0"], "--k"), (["--limit", "0"], "--limit"),
        ] {
            let r = try Executables.run("trm-run", [model, "--task", "sudoku", "--limit", "3"] + bad)
            #expect(r.status == 2, "\(bad): exit \(r.status): \(r.stderr)")
            #expect(r.stderr.contains(mentions), "\(bad): \(r.stderr)")
            #expect(!r.stdout.contains("pass@"), "\(bad): the run happened first: \(r.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.json"))
    }

    @Test func emptyPuzzleFilesAreErrors() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("source,question,answer,rating\n".utf8).write(to: URL(fileURLWithPath: dir + "/header.csv"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.csv"))
        for (file, mentions) in [("header.csv", "no puzzles"), ("empty.csv", "empty file")] {
            let r = try Executables.run("trm-run", [model, "--task", "sudoku", "--data", dir + "/" + file])
            #expect(r.status == 1, "\(file): exit \(r.status): \(r.stdout)")
            #expect(r.stderr.contains(mentions), "\(file): \(r.stderr)")
            let check = try Executables.run("trm-data", ["check", dir + "/" + file])
            #expect(check.status != 0, "trm-data check \(file): \(check.stdout)")
        }
    }

    @Test func trmBenchOpensEveryModelBeforeTiming() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try Executables.run(
            "trm-bench", ["--models", model + "," + dir + "/missing.trmg", "--batch", "1", "--threads", "1", "--repeat", "1"])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("missing.trmg"), "\(missing.stderr)")
        #expect(!missing.stdout.contains("batch 1"), "timed a model before checking the others: \(missing.stdout)")
        for bad in [
            ["--models", ""], ["--models", model + ","], ["--models", model, "--batch", ""], ["--models", model, "--threads", "1,,2"],
        ] {
            let r = try Executables.run("trm-bench", bad + ["--repeat", "1"])
            #expect(r.status == 2, "\(bad): exit \(r.status): \(r.stdout) \(r.stderr)")
        }
    }
}
