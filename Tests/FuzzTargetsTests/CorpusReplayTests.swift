import Foundation
import Testing
@testable import FuzzTargets

/// Replays the saved fuzz corpora (seeds from real files the project writes, plus every input that
/// once crashed, hung or leaked, under Fuzz/regressions/) through the fuzz targets. A crash fails
/// the whole run; the seeds of each target must also still be accepted, so the corpus keeps
/// reaching past the readers' first checks.
struct CorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func files(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let dir = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let seeds = Self.files("seeds", target)
        #expect(!seeds.isEmpty, "no seeds for \(target.rawValue)")
        for url in seeds {
            #expect(target.run([UInt8](try Data(contentsOf: url))), "seed \(url.lastPathComponent) is rejected")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func regressionsAndCorpusReplay(_ target: FuzzTarget) throws {
        for url in Self.files("regressions", target) + Self.files("corpus", target) {
            target.run([UInt8](try Data(contentsOf: url)))
        }
    }
}
