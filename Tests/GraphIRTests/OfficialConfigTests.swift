import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// all_config.yaml's arch section onto ModelConfig, and every refusal naming its field.
@Suite struct OfficialConfigTests {
    static func config(_ run: OfficialRun) throws -> OfficialConfig {
        try OfficialConfig.parse(try YAML.parse(Array(run.yaml.utf8)))
    }

    /// The message of the error `run`'s config gives, parsed and mapped to the Sudoku 4 × 4 sizes.
    static func refusal(_ run: OfficialRun) -> String {
        do {
            _ = try config(run).modelConfig(vocab: 6, seqLen: 16, numPuzzleIds: 3)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [false, true]) func mapsOntoModelConfig(mlpT: Bool) throws {
        let run = OfficialRun(mlpT: mlpT)
        let c = try Self.config(run)
        #expect(try c.modelConfig(vocab: 6, seqLen: 16, numPuzzleIds: 3) == run.config)
        #expect(c.dataPaths == [run.dataPath])
        #expect(
            c.ignored == [
                "arch.loss (training only)", "arch.halt_exploration_prob (training only)",
                "arch.forward_dtype (bfloat16; trm computes in fp32)",
            ])
    }

    @Test func theReferenceRecipes() throws {
        // The README's ARC run (L_cycles 4, overriding trm.yaml's 6) and Sudoku mlp_t run, full size.
        var arc = OfficialRun(mlpT: false)
        arc.arch.merge([
            "L_cycles": "4", "H_cycles": "3", "hidden_size": "512", "num_heads": "8", "expansion": "4",
            "halt_max_steps": "16", "puzzle_emb_len": "16", "puzzle_emb_ndim": "512",
        ]) { $1 }
        let arcConfig = try Self.config(arc).modelConfig(vocab: 12, seqLen: 900, numPuzzleIds: 1)
        var expected = Preset.trmAttn.config(task: .arc)
        #expect(arcConfig == expected)
        var sudoku = arc
        sudoku.mlpT = true
        sudoku.arch.merge(["L_cycles": "6", "mlp_t": "True", "pos_encodings": "none"]) { $1 }
        expected = Preset.trmMlpT.config(task: .sudoku)
        #expect(try Self.config(sudoku).modelConfig(vocab: 11, seqLen: 81, numPuzzleIds: 1) == expected)
    }

    @Test func puzzleEmbLenZeroMeansEnoughTokensForTheEmbedding() throws {
        var run = OfficialRun(mlpT: false)
        run.arch["puzzle_emb_len"] = "0"
        #expect(try Self.config(run).prefixLength == 1)
        run.arch["puzzle_emb_ndim"] = "24"
        #expect(try Self.config(run).prefixLength == 2)
        run.arch["puzzle_emb_ndim"] = "0"
        #expect(try Self.config(run).modelConfig(vocab: 6, seqLen: 16, numPuzzleIds: 1).puzzleEmbLen == 0)
    }

    /// Fields the official model reads nowhere at inference are reported, not refused.
    @Test func fieldsInferenceDoesNotReadAreReported() throws {
        var run = OfficialRun(mlpT: false)
        run.arch["H_layers"] = "2"
        run.arch["no_ACT_continue"] = "false"
        let ignored = try Self.config(run).ignored
        #expect(ignored.contains { $0.hasPrefix("arch.H_layers (2;") })
        #expect(ignored.contains { $0.hasPrefix("arch.no_ACT_continue (false:") })
        #expect(try Self.config(OfficialRun(mlpT: false)).ignored.allSatisfy { !$0.contains("H_layers") && !$0.contains("no_ACT") })
    }

    @Test func refusalsNameTheField() throws {
        // (field, value, the line of the field): each refusal names both.
        let atLine: [(String, String, Int)] = [
            ("name", "recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1", 15), ("enable_dqn", "true", 6),
            ("pos_encodings", "alibi", 18), ("forward_dtype", "int8", 7), ("causal", "true", 6),
            ("hidden_size", "abc", 10), ("puzzle_emb_ndim", "${.hidden_size}", 20), ("L_layers", "0", 5), ("L_layers", "33", 5),
            ("expansion", "-1", 6), ("mlp_t", "1", 14),
        ]
        for (key, value, line) in atLine {
            var run = OfficialRun(mlpT: false)
            run.arch[key] = value
            let got = Self.refusal(run)
            #expect(got.contains("official config: arch.\(key) (line \(line)) ") && got.contains(value), "\(key): \(got)")
        }
        let whole: [(String, String?, String)] = [
            ("H_cycles", nil, "arch.H_cycles is missing"),
            ("vocab_size", "12", "arch.vocab_size is 12, but the dataset or the tensors say 6"),
            ("num_heads", "3", "arch.hidden_size 16 is not a multiple of arch.num_heads 3"),
            ("puzzle_emb_ndim", "0", "arch.puzzle_emb_len 2 with arch.puzzle_emb_ndim 0"),
            ("halt_max_steps", "5000", "halt_max_steps 5000 is over the limit"),
        ]
        for (key, value, message) in whole {
            var run = OfficialRun(mlpT: false)
            run.arch[key] = value
            #expect(Self.refusal(run).contains(message), "\(key): \(Self.refusal(run))")
        }
        var unresolved = OfficialRun(mlpT: false)
        unresolved.arch["puzzle_emb_ndim"] = "${.hidden_size}"
        #expect(Self.refusal(unresolved).contains("must be an integer, got '${.hidden_size}' (an unresolved interpolation)"))
        let noArch = #expect(throws: TRMError.self) { try OfficialConfig.parse(try YAML.parse(Array("lr: 0.1\n".utf8))) }
        #expect(noArch?.message.contains("no 'arch:' mapping") == true)
    }
}
