import Foundation
import GraphIR
import Runtime
import Tasks

// The task layer of include/trm_runtime.h (`trm_task_*`) over `TaskSet`.

func task(_ p: OpaquePointer?) throws -> TaskSet {
    guard let p else { throw CAPIError.argument("task is NULL") }
    return Unmanaged<TaskSet>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

/// Stores `grid` into the caller's cells (row-major, one int32 per cell); too little room is an
/// invalid argument, with *rows and *cols still set so the caller learns the size.
func store(
    _ grid: Grid, _ cells: UnsafeMutablePointer<Int32>?, _ capacity: Int, _ rows: UnsafeMutablePointer<Int32>?,
    _ cols: UnsafeMutablePointer<Int32>?
) throws {
    rows?.pointee = Int32(grid.rows)
    cols?.pointee = Int32(grid.cols)
    guard let cells else { throw CAPIError.argument("cells is NULL") }
    guard capacity >= grid.cells.count else {
        throw CAPIError.argument("the grid has \(grid.rows)×\(grid.cols) = \(grid.cells.count) cells, capacity is \(capacity)")
    }
    for (i, v) in grid.cells.enumerated() { cells[i] = Int32(v) }
}

@_cdecl("trm_task_create")
public func trm_task_create(
    _ m: OpaquePointer?, _ kind: Int32, _ numAug: Int32, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        let h = try model(m)
        guard let out else { throw CAPIError.argument("out is NULL") }
        guard let k = TaskSet.Kind(rawValue: kind) else {
            throw CAPIError.argument("kind must be TRM_TASK_ARC (0), TRM_TASK_SUDOKU (1) or TRM_TASK_MAZE (2), got \(kind)")
        }
        let t = try TaskSet(model: h.model, kind: k, numAug: Int(numAug), seed: seed)
        out.pointee = OpaquePointer(Unmanaged.passRetained(t).toOpaque())
    }
}

@_cdecl("trm_task_free")
public func trm_task_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<TaskSet>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("trm_task_add_arc_json")
public func trm_task_add_arc_json(
    _ p: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ json: UnsafePointer<CChar>?, _ length: Int, _ index: UnsafeMutablePointer<Int>?
) -> Int32 {
    guarded {
        let t = try task(p)
        guard let name, let json else { throw CAPIError.argument("name and json must not be NULL") }
        guard length >= 0, length <= ARCDataset.maxFileBytes else {
            throw CAPIError.argument("length \(length) is out of range (0...\(ARCDataset.maxFileBytes))")
        }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: json, count: length))
        let i = try t.addARC(name: String(cString: name), json: bytes)
        index?.pointee = i
    }
}

@_cdecl("trm_task_add_grid")
public func trm_task_add_grid(
    _ p: OpaquePointer?, _ question: UnsafePointer<CChar>?, _ answer: UnsafePointer<CChar>?, _ index: UnsafeMutablePointer<Int>?
) -> Int32 {
    guarded {
        let t = try task(p)
        guard let question else { throw CAPIError.argument("question is NULL") }
        func bytes(_ s: UnsafePointer<CChar>) -> [UInt8] {
            Array(UnsafeBufferPointer(start: s, count: strlen(s))).map { UInt8(bitPattern: $0) }
        }
        let i = try t.addGrid(question: bytes(question), answer: answer.map(bytes))
        index?.pointee = i
    }
}

@_cdecl("trm_task_puzzle_count")
public func trm_task_puzzle_count(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded {
        let t = try task(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        out.pointee = t.puzzles.count
    }
}

@_cdecl("trm_task_test_count")
public func trm_task_test_count(_ p: OpaquePointer?, _ puzzle: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded {
        let t = try task(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        out.pointee = try t.puzzle(puzzle).testInputs.count
    }
}

@_cdecl("trm_task_query_count")
public func trm_task_query_count(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded {
        let t = try task(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        out.pointee = t.queries.count
    }
}

@_cdecl("trm_task_query")
public func trm_task_query(
    _ p: OpaquePointer?, _ query: Int, _ tokens: UnsafeMutablePointer<Int32>?, _ count: Int, _ puzzleId: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let t = try task(p)
        guard t.queries.indices.contains(query) else {
            throw CAPIError.argument("query \(query) is out of range (\(t.queries.count) queries)")
        }
        guard let tokens else { throw CAPIError.argument("tokens is NULL") }
        let item = t.queries[query]
        guard count == item.query.tokens.count else {
            throw CAPIError.argument("a query has \(item.query.tokens.count) tokens, count is \(count)")
        }
        item.query.tokens.withUnsafeBufferPointer { tokens.update(from: $0.baseAddress!, count: $0.count) }
        puzzleId?.pointee = item.row
    }
}

@_cdecl("trm_task_set_prediction")
public func trm_task_set_prediction(
    _ p: OpaquePointer?, _ query: Int, _ preds: UnsafePointer<Int32>?, _ count: Int, _ qHalt: Float
) -> Int32 {
    guarded {
        let t = try task(p)
        guard let preds else { throw CAPIError.argument("preds is NULL") }
        guard count >= 0, count <= 1 << 20 else { throw CAPIError.argument("count \(count) is out of range") }
        try t.setPrediction(query, preds: Array(UnsafeBufferPointer(start: preds, count: count)), qHalt: qHalt)
    }
}

@_cdecl("trm_task_run")
public func trm_task_run(_ p: OpaquePointer?, _ s: OpaquePointer?, _ halting: Int32, _ maxSteps: Int32) -> Int32 {
    guarded {
        let t = try task(p), h = try session(s)
        guard halting == 0 || halting == 1 else { throw CAPIError.argument("halting must be 0 (fixed) or 1 (adaptive)") }
        guard maxSteps >= 0, maxSteps <= ModelLimits.maxHaltSteps else {
            throw CAPIError.argument("max_steps must be 0 (the model's halt_max_steps) to \(ModelLimits.maxHaltSteps), got \(maxSteps)")
        }
        try t.run(
            h.runner, halting: halting == 0 ? .fixed : .adaptive, maxSteps: maxSteps == 0 ? nil : Int(maxSteps), progress: h.progressClosure
        )
        h.hasOutputs = true
    }
}

@_cdecl("trm_task_pass_at_k")
public func trm_task_pass_at_k(_ p: OpaquePointer?, _ k: Int32, _ out: UnsafeMutablePointer<Double>?, _ scored: UnsafeMutablePointer<Int>?)
    -> Int32
{
    guarded {
        let t = try task(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        guard k >= 1 else { throw CAPIError.argument("k must be at least 1, got \(k)") }
        let ks = PassAtK.defaultKs.contains(Int(k)) ? PassAtK.defaultKs : [Int(k)]
        let score = t.evaluation(ks: ks).passAtK()
        out.pointee = score.rate(Int(k))
        scored?.pointee = score.puzzles
    }
}

@_cdecl("trm_task_candidate_count")
public func trm_task_candidate_count(_ p: OpaquePointer?, _ puzzle: Int, _ test: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded {
        let t = try task(p)
        guard let out else { throw CAPIError.argument("out is NULL") }
        out.pointee = try t.candidates(puzzle: puzzle, test: test).count
    }
}

@_cdecl("trm_task_candidate")
public func trm_task_candidate(
    _ p: OpaquePointer?, _ puzzle: Int, _ test: Int, _ rank: Int, _ cells: UnsafeMutablePointer<Int32>?, _ capacity: Int,
    _ rows: UnsafeMutablePointer<Int32>?, _ cols: UnsafeMutablePointer<Int32>?, _ votes: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let ranked = try task(p).candidates(puzzle: puzzle, test: test)
        guard ranked.indices.contains(rank) else {
            throw CAPIError.argument("candidate \(rank) is out of range (the test pair has \(ranked.count))")
        }
        try store(ranked[rank].answer, cells, capacity, rows, cols)
        votes?.pointee = Int32(clamping: ranked[rank].count)
    }
}

@_cdecl("trm_task_attempt")
public func trm_task_attempt(
    _ p: OpaquePointer?, _ puzzle: Int, _ test: Int, _ attempt: Int32, _ cells: UnsafeMutablePointer<Int32>?, _ capacity: Int,
    _ rows: UnsafeMutablePointer<Int32>?, _ cols: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let t = try task(p)
        guard attempt == 1 || attempt == 2 else { throw CAPIError.argument("attempt must be 1 or 2, got \(attempt)") }
        let name = try t.puzzle(puzzle).name
        _ = try t.candidates(puzzle: puzzle, test: test)  // checks the indices
        let pair = t.evaluation().attempts()[name]?[test] ?? (Evaluation.placeholder, Evaluation.placeholder)
        try store(attempt == 1 ? pair.0 : pair.1, cells, capacity, rows, cols)
    }
}
