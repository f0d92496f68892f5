import Foundation
import Testing
import TRMCore

/// Raw mode reads token files of every integer dtype NumPy code writes for them (int32, int64,
/// uint8, uint16) with the same result, and refuses values outside the vocabulary naming the file.
@Suite struct RawModeTokenTests {
    @Test func uint8AndUint16TokensRunAsInt32Tokens() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Sudoku 4×4: vocabulary 0..<6, 16 tokens per sample.
        let tokens = (0..<(3 * 16)).map { 1 + ($0 * 7) % 5 }
        let files: [(String, Npy.Values)] = [
            ("i32", .int32(tokens.map(Int32.init))), ("u8", .uint8(tokens.map(UInt8.init))), ("u16", .uint16(tokens.map(UInt16.init))),
        ]
        var outputs: [[Data]] = []
        for (name, values) in files {
            try Npy.write(values, shape: [3, 16], to: "\(dir)/\(name).npy")
            let r = try Executables.run(
                "trm-run", [model, "--inputs", "\(dir)/\(name).npy", "--out", "\(dir)/\(name)", "--threads", "1", "-q"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            outputs.append(
                try ["logits", "preds", "q_halt"].map { try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)/\($0).npy")) })
        }
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "uint8 and uint16 tokens give the int32 run's outputs")

        for bad in [6, 300] {
            var wide = tokens.map(UInt16.init)
            wide[17] = UInt16(bad)
            let path = "\(dir)/bad\(bad).npy"
            try Npy.write(.uint16(wide), shape: [3, 16], to: path)
            let r = try Executables.run("trm-run", [model, "--inputs", path, "--out", dir + "/bad", "--threads", "1"])
            #expect(r.status == 1, "\(r.stdout)")
            #expect(r.stderr == "trm-run: error: \(path): tokens: value \(bad) is outside the model's vocabulary 0..<6\n", "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/bad"), "nothing is written")
        }
    }
}
