import Foundation
import GraphIR
import Testing
import TRMCore

/// Every tool answers `--version` with its name and trm's version, exits 0, and lists the option
/// in its help; subcommands and the trainer's default command too.
@Suite struct VersionTests {
    static let tools = ["trm-train", "trm-compile", "trm-run", "trm-info", "trm-data", "trm-bench"]

    @Test func everyToolPrintsItsVersion() throws {
        for tool in Self.tools {
            let r = try Executables.run(tool, ["--version"])
            #expect(r.status == 0 && r.stdout == "\(tool) \(TRMVersion.string)\n", "\(tool): \(r.status) \(r.stdout) \(r.stderr)")
        }
        for args in [["train", "--version"], ["init", "--version"], ["--task", "sudoku", "--version"]] {
            let r = try Executables.run("trm-train", args)
            #expect(r.status == 0 && r.stdout == "trm-train \(TRMVersion.string)\n", "trm-train \(args): \(r.stdout) \(r.stderr)")
        }
        let data = try Executables.run("trm-data", ["generate", "--version"])
        #expect(data.status == 0 && data.stdout.hasPrefix("trm-data "))
    }

    @Test func helpListsVersion() throws {
        for tool in ["trm-compile", "trm-run", "trm-info", "trm-bench"] {
            let r = try Executables.run(tool, ["--help"])
            #expect(r.status == 0 && r.stdout.contains("--version") && r.stdout.contains("print the version"), "\(tool)")
        }
    }

    /// trm-info names the version of trm-compile that wrote a `.trmg` (read from the file: an older
    /// producer shows its own version).
    @Test func trmInfoShowsTheProducerVersion() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fresh = try Executables.run("trm-info", [model])
        #expect(fresh.status == 0 && fresh.stdout.contains("\nproducer    trm-compile \(TRMVersion.string)"), "\(fresh.stdout)")
        var old = try TrmgReader.read(path: model)
        old.producerVersion = "0.1.7"
        try TrmgWriter.write(old, to: dir + "/old.trmg")
        let r = try Executables.run("trm-info", [dir + "/old.trmg"])
        #expect(r.status == 0 && r.stdout.contains("\nproducer    trm-compile 0.1.7"), "\(r.stdout)")
    }
}
