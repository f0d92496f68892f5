import Foundation
import GraphIR
import Testing
import TRMCore

/// A model compiled with external data (docs/formats.md §2.5) runs from its mapped sidecar and
/// answers exactly as the same model compiled into one file.
@Suite struct ExternalDataRunTests {
    @Test func mappedWeightsGiveTheInlineModelsOutputs() throws {
        let (dir, inline) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let external = dir + "/ext.trmg"
        let c = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", external, "--external-threshold", "0"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("external data \(dir)/ext.trmg.data"))
        #expect(FileManager.default.fileExists(atPath: external + ".data"))
        #expect(!FileManager.default.fileExists(atPath: inline + ".data"))
        // Every initializer is external, the .trmg holds no weights.
        let model = try TrmgReader.read(path: external)
        #expect(model.graph.initializers.allSatisfy { $0.data.isMapped })
        #expect(try TrmgReader.read(path: inline) == model)

        try Npy.write(.int32((0..<(3 * 16)).map { Int32($0 % 5) }), shape: [3, 16], to: dir + "/tok.npy")
        for (name, path) in [("inline", inline), ("external", external)] {
            let r = try Executables.run(
                "trm-run", [path, "--inputs", dir + "/tok.npy", "--out", dir + "/" + name, "--batch", "2", "--threads", "2"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
        }
        for file in ["logits.npy", "preds.npy", "q_halt.npy", "steps.npy"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/inline/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/external/" + file))
            #expect(a == b, "\(file) differs between the inline and the external model")
        }
        let info = try Executables.run("trm-info", [external]).stdout
        #expect(info.contains("carry") && info.contains("bytes mapped from") && info.contains("ext.trmg.data"), "\(info)")
        #expect(!(try Executables.run("trm-info", [inline]).stdout.contains("mapped")))

        // Without its sidecar the model is refused before any run, naming the file.
        try FileManager.default.removeItem(atPath: external + ".data")
        for (tool, args) in [("trm-info", [external]), ("trm-run", [external, "--inputs", dir + "/tok.npy", "--out", dir + "/x"])] {
            let r = try Executables.run(tool, args)
            #expect(r.status == 1 && r.stderr.contains("ext.trmg.data"), "\(tool): \(r.stderr)")
        }
    }

    @Test func optionsAreChecked() throws {
        let (dir, _) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad: [[String]] = [
            ["--external-threshold", "-1"], ["--external-threshold", "x"], ["--external-threshold", "0", "--no-external-data"],
        ]
        for extra in bad {
            let r = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", dir + "/x.trmg"] + extra)
            #expect(r.status == 2, "\(extra): \(r.stderr)")
        }
        let r = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", dir + "/x.trmg", "--no-external-data"])
        #expect(r.status == 0 && !FileManager.default.fileExists(atPath: dir + "/x.trmg.data"), "\(r.stderr)")
        // The sidecar must not be the input either.
        try FileManager.default.copyItem(atPath: dir + "/m.ckpt", toPath: dir + "/y.trmg.data")
        let clash = try Executables.run("trm-compile", [dir + "/y.trmg.data", "-o", dir + "/y.trmg"])
        #expect(clash.status == 1 && clash.stderr.contains("same file as the input"), "\(clash.stderr)")
    }
}
