import Foundation
import Testing
@testable import FuzzTargets

/// Replays the saved fuzz corpora (seeds from real files the project writes, plus every input that
/// once crashed, hung or leaked, under Fuzz/regressions/) through the fuzz targets. A crash fails
/// the whole run; the seeds of each target must also still be accepted, so the corpus keeps
/// reaching past the readers' first checks. Nothing here passes on an empty or missing corpus: every
/// target must have a non-empty seed folder, every folder that exists must hold inputs, and each
/// replay counts what it ran.
struct CorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")
    /// The corpus folders Fuzz/run.sh feeds libFuzzer: seeds are required for every target, the
    /// other two exist only for targets that have such inputs.
    static let folders = ["seeds", "regressions", "corpus"]

    /// The inputs in Fuzz/<folder>/<target> (hidden files such as .gitkeep do not count), or nil
    /// when that folder does not exist.
    static func files(_ folder: String, _ target: FuzzTarget) throws -> [URL]? {
        let dir = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { throw CorpusError("Fuzz/\(folder)/\(target.rawValue) is not a folder") }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    struct CorpusError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The parameterised tests below run once per FuzzTarget case, so they would pass with no
    /// cases at all: the targets, the folders under Fuzz/ and the Makefile's FUZZ_TARGETS (what
    /// `make fuzz-smoke` runs) must name the same set.
    @Test func targetsFoldersAndMakefileAgree() throws {
        let targets = Set(FuzzTarget.allCases.map(\.rawValue))
        #expect(targets.count >= 8, "only \(targets.count) fuzz targets")
        for folder in Self.folders {
            let dir = Self.root.appendingPathComponent(folder).path
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }
            #expect(!names.isEmpty, "Fuzz/\(folder) is empty")
            for name in names { #expect(targets.contains(name), "Fuzz/\(folder)/\(name) names no fuzz target") }
            if folder == "seeds" { #expect(Set(names) == targets, "Fuzz/seeds has \(names.sorted()), the targets are \(targets.sorted())") }
        }
        let makefile = try String(contentsOf: Self.root.deletingLastPathComponent().appendingPathComponent("Makefile"), encoding: .utf8)
        let line = try #require(
            makefile.split(separator: "\n").first { $0.hasPrefix("FUZZ_TARGETS ?=") }, "no FUZZ_TARGETS in the Makefile")
        let listed = line.dropFirst("FUZZ_TARGETS ?=".count).split(separator: " ").map(String.init)
        #expect(Set(listed) == targets && listed.count == targets.count, "FUZZ_TARGETS \(listed) vs targets \(targets.sorted())")
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let seeds = try #require(try Self.files("seeds", target), "Fuzz/seeds/\(target.rawValue) is missing")
        try #require(!seeds.isEmpty, "Fuzz/seeds/\(target.rawValue) holds no seeds")
        var accepted = 0
        for url in seeds {
            let bytes = [UInt8](try Data(contentsOf: url))
            #expect(!bytes.isEmpty, "seed \(url.lastPathComponent) is empty")
            if target.run(bytes) { accepted += 1 } else { Issue.record("seed \(url.lastPathComponent) is rejected") }
        }
        #expect(accepted == seeds.count && accepted > 0, "\(target.rawValue): \(accepted) of \(seeds.count) seeds accepted")
    }

    /// Regressions and the saved corpus (the seeds run above): not every target has them, but a
    /// folder that exists must hold inputs, and each one is counted as replayed.
    @Test(arguments: FuzzTarget.allCases)
    func regressionsAndCorpusReplay(_ target: FuzzTarget) throws {
        for folder in ["regressions", "corpus"] {
            guard let urls = try Self.files(folder, target) else { continue }
            #expect(!urls.isEmpty, "Fuzz/\(folder)/\(target.rawValue) exists but holds no inputs")
            var replayed = 0
            for url in urls {
                _ = target.run([UInt8](try Data(contentsOf: url)))
                replayed += 1
            }
            #expect(replayed == urls.count && replayed > 0, "Fuzz/\(folder)/\(target.rawValue): replayed \(replayed) of \(urls.count)")
        }
    }
}
