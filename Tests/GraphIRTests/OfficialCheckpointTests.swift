import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// Official tensors, config and dataset into a trm Checkpoint: names, sizes, identifiers, the task,
/// the run directory and the file kinds.
@Suite struct OfficialCheckpointTests {
    /// The official file's tensors as a reader returns them (BF16 widened to fp32).
    static func tensors(_ run: OfficialRun, _ c: Checkpoint, extra: [NamedTensor] = [], dropping: String? = nil) throws -> [String:
        NamedTensor]
    {
        let list = try Safetensors.parse(run.officialSafetensors(c, extra: extra, dropping: dropping)).tensors
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }

    static func dataset(_ run: OfficialRun, identifiers: [String]? = nil) -> OfficialDatasetSizes {
        OfficialDatasetSizes(
            directory: "data", vocab: 6, seqLen: 16, numPuzzleIds: run.identifiers.count, identifiers: identifiers ?? run.identifiers)
    }

    static func make(_ run: OfficialRun, _ tensors: [String: NamedTensor], dataset: OfficialDatasetSizes?, task: TaskKind? = nil) throws
        -> OfficialCheckpoint
    {
        try OfficialCheckpoint.make(
            tensors: tensors, config: try OfficialConfig.parse(try YAML.parse(Array(run.yaml.utf8))), dataset: dataset, task: task)
    }

    @Test(arguments: [false, true]) func officialNamesBecomeOurCheckpoint(mlpT: Bool) throws {
        let run = OfficialRun(mlpT: mlpT)
        let ours = run.checkpoint(withIdentifiers: true)
        let official = try Self.make(run, try Self.tensors(run, ours), dataset: Self.dataset(run))
        #expect(official.checkpoint == ours)
        #expect(official.ignoredTensors == ["_orig_mod.model.inner.rotary_emb.cos_cached"])
        // bf16 buffers arrive as fp32 with the same values.
        #expect(official.checkpoint[StepGraphNames.hInit] == ours[StepGraphNames.hInit])
    }

    /// A step_N file in torch.save's layout (read by `TorchCheckpoint`) gives the same checkpoint.
    @Test(arguments: [false, true]) func torchZipStepFileBecomesOurCheckpoint(mlpT: Bool) throws {
        let run = OfficialRun(mlpT: mlpT)
        let ours = run.checkpoint(withIdentifiers: true)
        let dir = try OfficialRun.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(run.officialTorchZip(ours)).write(to: URL(fileURLWithPath: dir + "/step_7"))
        try Data(run.yaml.utf8).write(to: URL(fileURLWithPath: dir + "/all_config.yaml"))
        try run.writeDataset(to: dir + "/data")
        #expect(try CheckpointFormat.of(path: dir + "/step_7") == .torchZip)
        let loaded = try Checkpoint.load(path: dir, official: OfficialOptions(config: nil, dataset: Self.dataset(run), task: nil))
        #expect(loaded.checkpoint == ours)
        #expect(loaded.official?.tensorFile == dir + "/step_7")
        #expect(loaded.official?.ignoredTensors == ["_orig_mod.model.inner.rotary_emb.cos_cached"])
    }

    @Test func sizesFromTheTensorsWithoutADataset() throws {
        var run = OfficialRun(mlpT: true)
        let ours = run.checkpoint(withIdentifiers: false)
        #expect(try Self.make(run, try Self.tensors(run, ours), dataset: nil).checkpoint == ours)
        // An attention model has no tensor of length S: the Sudoku data path (or --task) implies L = (V - 2)².
        run = OfficialRun(mlpT: false)
        let attn = run.checkpoint(withIdentifiers: false)
        #expect(try Self.make(run, try Self.tensors(run, attn), dataset: nil).checkpoint == attn)
        run.dataPath = "data/puzzles"
        #expect(try Self.make(run, try Self.tensors(run, attn), dataset: nil, task: .sudoku).checkpoint == attn)
        let unknown = #expect(throws: TRMError.self) { try Self.make(run, try Self.tensors(run, attn), dataset: nil) }
        #expect(unknown?.message.contains("no tensor of this attention model gives seq_len: pass --dataset") == true)
    }

    @Test func refusals() throws {
        let run = OfficialRun(mlpT: false)
        let ours = run.checkpoint(withIdentifiers: true)
        func message(_ body: () throws -> OfficialCheckpoint) -> String {
            do {
                _ = try body()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let block = "L_level.layers.1.mlp.down_proj.weight"
        let missing = message { try Self.make(run, try Self.tensors(run, ours, dropping: block), dataset: Self.dataset(run)) }
        #expect(missing.contains("missing tensor '\(block)'"), "\(missing)")
        var bad = try Self.tensors(run, ours)
        bad["_orig_mod.model.inner.lm_head.weight"]!.shape = [3, 32]
        let shaped = message { try Self.make(run, bad, dataset: Self.dataset(run)) }
        #expect(shaped.contains("tensor 'lm_head.weight' has shape [3, 32], the config needs [6, 16]"), "\(shaped)")
        let hLevel = NamedTensor(name: "H_level.layers.0.mlp.down_proj.weight", shape: [2], values: [0, 0])
        let extra = message { try Self.make(run, try Self.tensors(run, ours, extra: [hLevel]), dataset: Self.dataset(run)) }
        #expect(extra.contains("tensor 'H_level.layers.0.mlp.down_proj.weight' is not part of"), "\(extra)")
        let ids = message { try Self.make(run, try Self.tensors(run, ours), dataset: Self.dataset(run, identifiers: ["<blank>"])) }
        #expect(ids.contains("identifiers.json names 1 puzzle identifiers, but the puzzle table has 3 rows"), "\(ids)")
        var twice = try Self.tensors(run, ours)
        twice["model.inner.q_head.bias"] = twice["_orig_mod.model.inner.q_head.bias"]
        #expect(message { try Self.make(run, twice, dataset: Self.dataset(run)) }.contains("are both 'q_head.bias'"))
        let task = message { try Self.make(run, try Self.tensors(run, ours), dataset: Self.dataset(run), task: .arc) }
        #expect(task.contains("--task arc does not fit this model's vocab 6 and seq_len 16"), "\(task)")
    }

    @Test func theTask() throws {
        #expect(OfficialTask.candidates(vocab: 12, seqLen: 900).map(\.task) == [.arc])
        #expect(OfficialTask.candidates(vocab: 11, seqLen: 81).map(\.task) == [.sudoku])
        #expect(OfficialTask.candidates(vocab: 6, seqLen: 900).map(\.task) == [.maze])
        #expect(OfficialTask.candidates(vocab: 6, seqLen: 16).map(\.task) == [.sudoku, .maze])
        #expect(OfficialTask.candidates(vocab: 12, seqLen: 90).isEmpty)
        #expect(OfficialTask.named(in: ["data/arc1concept-aug-1000", "x/maze-30x30-hard-1k", "research"]) == [.arc, .maze])
        let maze = try OfficialTask.resolve(vocab: 6, seqLen: 16, dataPaths: ["data/maze-4x4"], explicit: nil)
        #expect(maze.task == .maze && maze.grid == 4)
        #expect(try OfficialTask.resolve(vocab: 6, seqLen: 16, dataPaths: [], explicit: .sudoku).task == .sudoku)
        let e = #expect(throws: TRMError.self) { try OfficialTask.resolve(vocab: 6, seqLen: 16, dataPaths: ["d"], explicit: nil) }
        #expect(e?.message.contains("fit sudoku and maze") == true)
    }

    @Test func runDirectoriesAndFileKinds() throws {
        let dir = try OfficialRun.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = OfficialRun(mlpT: true)
        let ours = run.checkpoint(withIdentifiers: false)
        let write = { (name: String, bytes: [UInt8]) in try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        try write("step_9", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0])
        try write("step_10", run.officialSafetensors(ours))
        try write("step_10_all_preds.0", [1, 2, 3])
        try write("step_x", [1])
        try write("all_config.yaml", Array(run.yaml.utf8))
        try write("ours.ckpt", try ours.serialize())
        #expect(try OfficialCheckpoint.latestStep(in: dir) == dir + "/step_10")
        #expect(try CheckpointFormat.of(path: dir) == .directory)
        #expect(try CheckpointFormat.of(path: dir + "/step_9") == .torchZip)
        #expect(try CheckpointFormat.of(path: dir + "/step_10") == .safetensors)
        #expect(try CheckpointFormat.of(path: dir + "/ours.ckpt") == .trm)
        #expect(try CheckpointFormat.of(path: dir + "/step_x") == .unknown)
        let fromDirectory = try Checkpoint.load(path: dir)
        #expect(fromDirectory.checkpoint == ours && fromDirectory.official?.tensorFile == dir + "/step_10")
        #expect(try Checkpoint.load(path: dir + "/ours.ckpt").official == nil)
        // A PyTorch zip goes to the torch reader: it refuses this fake one (zeros after the magic),
        // an injected one is used.
        let zip = #expect(throws: TRMError.self) { try Checkpoint.load(path: dir + "/step_9") }
        #expect(zip?.message.contains("too short for a zip archive") == true, "\(String(describing: zip))")
        let stateDict = try Self.tensors(run, ours)
        let injected = try Checkpoint.load(path: dir + "/step_9", tensorsOf: { _ in stateDict })
        #expect(injected.checkpoint == ours)
        let flags = #expect(throws: TRMError.self) {
            try Checkpoint.load(path: dir + "/ours.ckpt", official: OfficialOptions(task: .sudoku))
        }
        #expect(flags?.message.contains("is a trm checkpoint") == true)
        try FileManager.default.removeItem(atPath: dir + "/all_config.yaml")
        let noConfig = #expect(throws: TRMError.self) { try Checkpoint.load(path: dir + "/step_10") }
        #expect(noConfig?.message.contains("no all_config.yaml beside it: pass its run's config with --config") == true)
    }
}
