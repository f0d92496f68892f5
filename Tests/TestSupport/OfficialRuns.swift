import Foundation
import GraphIR
import TRMCore

/// An official TinyRecursiveModels run in miniature, for the tests of the official-checkpoint path
/// (docs/formats.md §1.5): its all_config.yaml as pretrain.py writes it, its state_dict under the
/// official names as safetensors (H_init and L_init in bf16, as the official stores those buffers),
/// and its dataset folder. The model is a Sudoku 4 × 4 one (vocab 6, 16 cells), attention or mlp_t.
public struct OfficialRun {
    public var mlpT: Bool
    /// The arch section, key by key: the text after `key:` (a nested mapping starts with a newline).
    public var arch: [String: String]
    public var dataPath = "data/sudoku-4x4-aug-100"
    public var identifiers = ["<blank>", "p1", "p2"]

    public init(mlpT: Bool) {
        self.mlpT = mlpT
        arch = [
            "H_cycles": "1", "H_layers": "0", "L_cycles": "2", "L_layers": "2", "expansion": "2",
            "forward_dtype": "bfloat16", "halt_exploration_prob": "0.1", "halt_max_steps": "2", "hidden_size": "16",
            "loss": "\n    loss_type: stablemax_cross_entropy\n    name: losses@ACTLossHead", "mlp_t": mlpT ? "true" : "false",
            "name": OfficialConfig.archName, "no_ACT_continue": "true", "num_heads": "2",
            "pos_encodings": mlpT ? "none" : "rope", "puzzle_emb_len": "2", "puzzle_emb_ndim": "16",
        ]
    }

    /// A fresh directory for a test's files.
    public static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-official-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// all_config.yaml: keys sorted and lists unindented, as PyYAML's `yaml.dump` writes them.
    public var yaml: String {
        let archLines = arch.keys.sorted().map { key in "  \(key):" + (arch[key]!.hasPrefix("\n") ? arch[key]! : " " + arch[key]!) }
        return
            (["arch:"] + archLines + [
                "beta1: 0.9", "checkpoint_path: checkpoints/run", "data_paths:", "- \(dataPath)", "data_paths_test: []",
                "ema: true", "evaluators: []", "global_batch_size: 768", "lr: 0.0001", "puzzle_emb_lr: 0.01",
            ]).joined(separator: "\n") + "\n"
    }

    /// Our config of the same model.
    public var config: ModelConfig {
        let block: [SublayerKind] = [mlpT ? .mlpT : .attn, .mlp]
        return ModelConfig(
            hidden: 16, heads: 2, expansion: 2, sublayers: block + block, hCycles: 1, lCycles: 2, haltMaxSteps: 2, vocab: 6,
            seqLen: 16, puzzleEmbLen: 2, puzzleEmbNdim: 16, numPuzzleIds: identifiers.count, posEncodings: mlpT ? .none : .rope)
    }

    /// Our checkpoint of random weights; H_init and L_init are rounded to bf16 so that both files hold the same values.
    public func checkpoint(withIdentifiers: Bool) -> Checkpoint {
        var tensors: [String: NamedTensor] = [:]
        for (i, s) in config.parameterSpecs.enumerated() {
            var values = SampleGraphs.values(s.count, seed: UInt64(40 + i))
            if s.name == StepGraphNames.hInit || s.name == StepGraphNames.lInit {
                values = values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
            }
            tensors[s.name] = NamedTensor(name: s.name, shape: s.shape, values: values)
        }
        return Checkpoint(
            config: config, taskJSON: TaskKind.sudoku.taskJSON(grid: 4), identifiers: withIdentifiers ? identifiers : nil, tensors: tensors)
    }

    /// The checkpoint's tensors as the official state_dict names them (with `_orig_mod.model.inner.`)
    /// in a safetensors file: H_init and L_init as BF16, plus a rotary table and `extra`, without `dropping`.
    public func officialSafetensors(_ c: Checkpoint, extra: [NamedTensor] = [], dropping: String? = nil) -> [UInt8] {
        let rope = NamedTensor(name: "rotary_emb.cos_cached", shape: [18, 8], values: [Float](repeating: 1, count: 144))
        var entries: [(name: String, dtype: String, shape: [Int], data: [UInt8])] = []
        for s in c.config.parameterSpecs where s.name != dropping {
            let t = c.tensors[s.name]!
            let bf16 = s.name == StepGraphNames.hInit || s.name == StepGraphNames.lInit
            let data = t.values.flatMap { v -> [UInt8] in
                let bits = v.bitPattern
                return bf16 ? [UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)] : withUnsafeBytes(of: bits.littleEndian) { Array($0) }
            }
            entries.append(("_orig_mod.model.inner." + s.name, bf16 ? "BF16" : "F32", t.shape, data))
        }
        for t in [rope] + extra {
            entries.append(
                (
                    "_orig_mod.model.inner." + t.name, "F32", t.shape,
                    t.values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
                ))
        }
        var offset = 0
        let fields = entries.map { e -> String in
            defer { offset += e.data.count }
            return
                "\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.data.count)]}"
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + entries.flatMap(\.data)
    }

    /// The checkpoint's tensors as `torch.save(model.state_dict(), "step_N")` writes them: the
    /// official names, H_init and L_init as bf16, a rotary table, in a zip of `folder`.
    public func officialTorchZip(_ c: Checkpoint, folder: String = "step_7") -> [UInt8] {
        var writer = TorchZipWriter()
        writer.folder = folder
        for s in c.config.parameterSpecs {
            let bf16 = s.name == StepGraphNames.hInit || s.name == StepGraphNames.lInit
            writer.add(
                "_orig_mod.model.inner." + s.name, shape: s.shape, values: c.tensors[s.name]!.values, dtype: bf16 ? .bfloat16 : .float32)
        }
        writer.add("_orig_mod.model.inner.rotary_emb.cos_cached", shape: [18, 8], values: [Float](repeating: 1, count: 144))
        return writer.archive()
    }

    /// A dataset folder as dataset/build_sudoku_dataset.py writes it: test/dataset.json and identifiers.json.
    public func writeDataset(to directory: String, identifiers names: [String]? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory + "/test", withIntermediateDirectories: true)
        let metadata = """
            {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 16, \
            "num_puzzle_identifiers": \((names ?? identifiers).count), "total_groups": 10, "mean_puzzle_examples": 1.0, \
            "total_puzzles": 10, "sets": ["all"]}
            """
        try Data(metadata.utf8).write(to: URL(fileURLWithPath: directory + "/test/dataset.json"))
        let list = "[" + (names ?? identifiers).map(JSONText.quote).joined(separator: ", ") + "]"
        try Data(list.utf8).write(to: URL(fileURLWithPath: directory + "/identifiers.json"))
    }
}
