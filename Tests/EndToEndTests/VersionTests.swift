import Foundation
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
}
