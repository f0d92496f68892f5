import Foundation
import Testing

/// `trm-data generate` and `trm-data check` as a user runs them.
@Suite struct TrmDataTests {
    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    @Test func generatesAndChecksSudokuSets() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for size in [4, 6, 9] {
            let out = dir + "/s\(size).csv"
            let r = try Executables.run(
                "trm-data", ["generate", "--task", "sudoku", "--size", "\(size)", "--count", "12", "--seed", "3", "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("wrote \(out): 12 sudoku puzzles \(size)×\(size)"))
            let rows = try lines(out)
            #expect(rows.count == 13 && rows[0] == "source,question,answer,rating")
            let fields = rows[1].split(separator: ",", omittingEmptySubsequences: false)
            #expect(fields.count == 4 && fields[1].count == size * size && fields[2].count == size * size && fields[1].contains("."))
            let check = try Executables.run("trm-data", ["check", out, "--task", "sudoku", "--solve"])
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.contains("12 valid Sudoku puzzles, \(size)×\(size)") && check.stdout.contains("unique solution 12 of 12"))
        }
        let hard = dir + "/hard.csv"
        let r = try Executables.run("trm-data", ["generate", "--task", "sudoku", "--count", "3", "--min-rating", "10", "-o", hard])
        #expect(r.status == 0, "\(r.stderr)")
        let ratings = try lines(hard).dropFirst().map { Int($0.split(separator: ",").last!)! }
        #expect(ratings.count == 3 && ratings.allSatisfy { $0 >= 10 })
    }

    @Test func generatesAndChecksHardMazes() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/maze.csv"
        let r = try Executables.run(
            "trm-data", ["generate", "--task", "maze", "--size", "30", "--count", "4", "--min-path", "110", "--seed", "9", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try lines(out)
        #expect(rows.count == 5 && rows.dropFirst().allSatisfy { $0.split(separator: ",")[1].count == 900 })
        let check = try Executables.run("trm-data", ["check", out, "--task", "maze"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("4 valid mazes, 30×30") && check.stdout.contains("unique path     4 of 4"))
        let lengths = rows.dropFirst().map { Int($0.split(separator: ",").last!)! }
        #expect(lengths.allSatisfy { $0 >= 110 })
    }

    /// Same seed, same bytes, whatever the thread count; another seed, another file.
    @Test func outputIsDeterministic() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func generate(_ task: String, _ seed: String, _ threads: String, _ name: String) throws -> Data {
            let path = dir + "/" + name
            let r = try Executables.run(
                "trm-data",
                ["generate", "--task", task, "--size", "9", "--count", "8", "--seed", seed, "--threads", threads, "-q", "-o", path])
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        for task in ["sudoku", "maze"] {
            let a = try generate(task, "5", "1", "a")
            #expect(try generate(task, "5", "3", "b") == a)
            #expect(try generate(task, "6", "2", "c") != a)
        }
    }

    @Test func badUsageAndBadFilesFailCleanly() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/x.csv"
        let usage: [[String]] = [
            [], ["frobnicate"], ["generate", "--count", "3", "-o", out], ["generate", "--task", "chess", "--count", "3", "-o", out],
            ["generate", "--task", "sudoku", "-o", out], ["generate", "--task", "sudoku", "--count", "3"],
            ["generate", "--task", "sudoku", "--size", "5", "--count", "3", "-o", out],
            ["generate", "--task", "sudoku", "--count", "3", "--min-path", "10", "-o", out],
            ["generate", "--task", "maze", "--count", "3", "--min-rating", "10", "-o", out],
            ["generate", "--task", "maze", "--count", "x", "-o", out],
            ["generate", "--task", "maze", "--count", "3", "--bogus", "-o", out],
            ["check", "--task", "maze"], ["check", out, "--task", "sudoku", "--size", "7"],
        ]
        for args in usage {
            let r = try Executables.run("trm-data", args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("trm-data: "), "\(args)")
        }
        let impossible = try Executables.run(
            "trm-data",
            ["generate", "--task", "sudoku", "--size", "4", "--count", "2", "--min-rating", "1", "--max-attempts", "20", "-o", out])
        #expect(impossible.status == 1 && impossible.stderr.contains("no 4×4 (boxes 2×2) Sudoku rated ≥ 1 in 20 draws"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let noDir = try Executables.run("trm-data", ["generate", "--task", "maze", "--count", "2", "-o", dir + "/missing/m.csv"])
        #expect(noDir.status == 1 && noDir.stderr.contains("does not exist"))
        try "source,question,answer,rating\ns,12,34,0\n".write(toFile: out, atomically: true, encoding: .utf8)
        let bad = try Executables.run("trm-data", ["check", out, "--task", "sudoku"])
        #expect(bad.status == 1 && bad.stderr.contains("x.csv:2: question has 2 characters"))
        let missing = try Executables.run("trm-data", ["check", dir + "/none.csv", "--task", "maze"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot open"))
        for args in [["--help"], ["generate", "--help"], ["check", "-h"]] {
            let help = try Executables.run("trm-data", args)
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(args)")
        }
    }
}
