import Foundation
import GraphIR
import Runtime

/// `trm_model_info` of include/trm_runtime.h: six `int32_t` fields, in the header's order. The C
/// struct has no padding (every field is 4-byte aligned), and Swift lays out a struct of
/// same-sized trivial fields in declaration order with the same offsets; `layoutMatchesHeader`
/// checks that once, so a field added on one side only fails loudly instead of writing past the
/// caller's struct.
struct TRMModelInfo {
    var seqLen: Int32
    var vocab: Int32
    var numPuzzleIds: Int32
    var haltMaxSteps: Int32
    var hidden: Int32
    var fullSeqLen: Int32

    /// The header's field count and width: sizeof(trm_model_info) == 6 * sizeof(int32_t).
    static let headerFields = 6
    static let layoutMatchesHeader =
        MemoryLayout<TRMModelInfo>.size == headerFields * 4 && MemoryLayout<TRMModelInfo>.stride == headerFields * 4
        && MemoryLayout<TRMModelInfo>.alignment == 4 && MemoryLayout<TRMModelInfo>.offset(of: \.fullSeqLen) == (headerFields - 1) * 4
}

/// Writes the model's sizes into the caller's trm_model_info. `out` is raw so that Swift callers
/// may pass any 24-byte storage (the fuzz target passes six Int32s); C callers pass the struct.
@_cdecl("trm_model_get_info")
public func trm_model_get_info(_ p: OpaquePointer?, _ out: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let h = try model(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        guard TRMModelInfo.layoutMatchesHeader else {
            throw CAPIError(status: .internalError, message: "trm_model_info does not have the layout of trm_runtime.h")
        }
        let probe = try h.model.stepSignature()
        let c = h.model.config
        let info = TRMModelInfo(
            seqLen: Int32(clamping: probe.seqLen), vocab: Int32(clamping: probe.vocabIn),
            numPuzzleIds: Int32(clamping: probe.numPuzzleIds), haltMaxSteps: Int32(clamping: h.model.plan.haltMaxSteps),
            hidden: Int32(clamping: c?.hidden ?? 0), fullSeqLen: Int32(clamping: c?.fullSeqLen ?? 0))
        out.storeBytes(of: info, as: TRMModelInfo.self)
    }
}

@_cdecl("trm_session_create")
public func trm_session_create(_ p: OpaquePointer?, _ batch: Int32, _ threads: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32
{
    trm_session_create_precision(p, batch, threads, 0, out)
}

/// TRM_PRECISION_* values, in the header's order.
let precisionCodes: [Precision] = [.fp32, .bf16]

@_cdecl("trm_session_create_precision")
public func trm_session_create_precision(
    _ p: OpaquePointer?, _ batch: Int32, _ threads: Int32, _ precision: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        guard precision >= 0, Int(precision) < precisionCodes.count else {
            throw CAPIError.argument("precision must be TRM_PRECISION_FP32 (0) or TRM_PRECISION_BF16 (1), got \(precision)")
        }
        let h = try model(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        guard batch >= 1, batch <= Session.maxBatch else { throw CAPIError.argument("batch must be 1...\(Session.maxBatch), got \(batch)") }
        guard threads >= 0, threads <= Session.maxThreads else {
            throw CAPIError.argument("threads must be 0 (all cores) or 1...\(Session.maxThreads), got \(threads)")
        }
        let t = threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : Int(threads)
        let session = try Session(model: h.model, batch: Int(batch), threads: t, precision: precisionCodes[Int(precision)])
        let handle = SessionHandle(try ACTRunner(session: session))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("trm_session_free")
public func trm_session_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("trm_session_solve")
public func trm_session_solve(
    _ p: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ ids: UnsafePointer<Int32>?, _ count: Int,
    _ halting: Int32, _ maxSteps: Int32, _ logits: UnsafeMutablePointer<Float>?,
    _ preds: UnsafeMutablePointer<Int32>?, _ qHalt: UnsafeMutablePointer<Float>?,
    _ steps: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let h = try session(p), r = h.runner
        guard count >= 0, count <= 1 << 24 else { throw CAPIError.argument("count \(count) is out of range") }
        guard let tokens else { throw CAPIError.argument("tokens is NULL") }
        guard halting == 0 || halting == 1 else { throw CAPIError.argument("halting must be 0 (fixed) or 1 (adaptive)") }
        guard maxSteps >= 0, maxSteps <= ModelLimits.maxHaltSteps else {
            throw CAPIError.argument("max_steps must be 0 (the model's halt_max_steps) to \(ModelLimits.maxHaltSteps), got \(maxSteps)")
        }
        let tok = Array(UnsafeBufferPointer(start: tokens, count: count * r.seqLen))
        let idList = ids.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
        let result = try r.run(
            tokens: tok, puzzleIds: idList, count: count, halting: halting == 0 ? .fixed : .adaptive,
            maxSteps: maxSteps == 0 ? nil : Int(maxSteps), progress: h.progressClosure)
        h.hasOutputs = true
        if let logits { result.logits.withUnsafeBufferPointer { logits.update(from: $0.baseAddress!, count: $0.count) } }
        if let preds { result.preds.withUnsafeBufferPointer { preds.update(from: $0.baseAddress!, count: $0.count) } }
        if let qHalt { result.qHalt.withUnsafeBufferPointer { qHalt.update(from: $0.baseAddress!, count: $0.count) } }
        if let steps { result.steps.withUnsafeBufferPointer { steps.update(from: $0.baseAddress!, count: $0.count) } }
    }
}

@_cdecl("trm_session_load")
public func trm_session_load(_ p: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ ids: UnsafePointer<Int32>?) -> Int32 {
    guarded {
        let h = try session(p), r = h.runner
        guard let tokens else { throw CAPIError.argument("tokens is NULL") }
        let b = r.session.batch
        h.hasOutputs = false
        try r.load(
            tokens: Array(UnsafeBufferPointer(start: tokens, count: b * r.seqLen)),
            puzzleIds: ids.map { Array(UnsafeBufferPointer(start: $0, count: b)) })
    }
}

@_cdecl("trm_session_step")
public func trm_session_step(_ p: OpaquePointer?) -> Int32 {
    guarded {
        let h = try session(p)
        try h.runner.stepAll()
        h.hasOutputs = true
    }
}

@_cdecl("trm_session_read")
public func trm_session_read(_ p: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?, _ count: Int) -> Int32
{
    guarded {
        let h = try session(p), s = h.runner.session
        guard let name, let out else { throw CAPIError.argument("name and out must not be NULL") }
        guard h.hasOutputs else { throw CAPIError.state("no ACT step has run since the session was created or loaded: nothing to read") }
        let key = String(cString: name)
        guard s.model.graph.outputs.contains(where: { $0.name == key && $0.type.dtype == .float32 }), let n = s.count(key) else {
            throw CAPIError.argument("'\(key)' is not a float output of the model")
        }
        guard count == n else { throw CAPIError.argument("'\(key)' has \(n) values, count is \(count)") }
        let values = s.floats(key)
        values.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: n) }
    }
}

@_cdecl("trm_session_predictions")
public func trm_session_predictions(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?, _ count: Int) -> Int32 {
    guarded {
        let h = try session(p), r = h.runner
        guard let out else { throw CAPIError.argument("out is NULL") }
        guard h.hasOutputs else { throw CAPIError.state("no ACT step has run since the session was created or loaded: no predictions") }
        let preds = r.predictions()
        guard count == preds.count else { throw CAPIError.argument("predictions have \(preds.count) values, count is \(count)") }
        preds.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: preds.count) }
    }
}

@_cdecl("trm_session_set_progress")
public func trm_session_set_progress(
    _ p: OpaquePointer?, _ callback: (@convention(c) (Int, Int, UnsafeMutableRawPointer?) -> Void)?, _ user: UnsafeMutableRawPointer?
) -> Int32 {
    guarded {
        let h = try session(p)
        if let callback { h.progress = (callback: callback, user: user) } else { h.progress = nil }
    }
}

@_cdecl("trm_session_cancel")
public func trm_session_cancel(_ p: OpaquePointer?) -> Int32 {
    guarded { try session(p).cancellation.cancel() }
}
