import TRMCore
import Testing
@testable import Tasks

@Suite struct MazeGeneratorTests {
    /// Open cells and the 4-neighbour edges between them: a tree has edges = cells - 1 and is connected.
    static func isTree(_ maze: Grid) -> Bool {
        let open = maze.cells.indices.filter { maze.cells[$0] != MazeCell.wall.rawValue }
        var edges = 0
        for cell in open {
            let r = cell / maze.cols, c = cell % maze.cols
            if c + 1 < maze.cols, maze.cells[cell + 1] != MazeCell.wall.rawValue { edges += 1 }
            if r + 1 < maze.rows, maze.cells[cell + maze.cols] != MazeCell.wall.rawValue { edges += 1 }
        }
        let reached = MazeSolver.distances(maze, from: open[0]).distance.count(where: { $0 >= 0 })
        return edges == open.count - 1 && reached == open.count
    }

    /// Checks one generated maze: valid, S-G path unique and as long as the rating, the answer marks it.
    static func expectValid(_ p: MazePuzzle, side: Int, minPath: Int) {
        #expect(p.side == side && p.question.cols == side)
        #expect(p.problem() == nil)
        let path = MazeSolver.shortestPath(p.question)
        #expect(path?.isUnique == true && path?.length == p.rating && p.rating >= max(minPath, 1))
        #expect(MazeSolver.solve(p.question) == p.answer)
        #expect(p.answer.cells.count(where: { $0 == MazeCell.path.rawValue }) == p.rating - 1)
    }

    /// Hundreds of perfect mazes, odd and even sides: the open cells form a tree, so the S-G path is
    /// unique by construction, which the path count confirms.
    @Test(arguments: [(2, 20), (3, 30), (9, 120), (10, 120), (16, 60), (30, 25)])
    func perfectMazesHaveUniqueShortestPaths(side: Int, count: Int) throws {
        let generator = MazeGenerator(size: side)
        for i in 0..<count {
            let p = try generator.generate(index: i, seed: 8)
            Self.expectValid(p, side: side, minPath: 1)
            #expect(Self.isTree(p.question))
        }
    }

    /// The hard 30×30 setting of the published set: shortest path at least 110 moves.
    @Test func hardMazesReachTheMinimumPath() throws {
        let generator = MazeGenerator(size: 30, minPath: 110)
        for i in 0..<4 {
            let p = try generator.generate(index: i, seed: 1)
            Self.expectValid(p, side: 30, minPath: 110)
        }
    }

    @Test func loopsKeepTheShortestPathUnique() throws {
        let generator = MazeGenerator(size: 15, minPath: 20, loops: 0.1)
        var cyclic = 0
        for i in 0..<40 {
            let p = try generator.generate(index: i, seed: 2)
            Self.expectValid(p, side: 15, minPath: 20)
            if !Self.isTree(p.question) { cyclic += 1 }
        }
        #expect(cyclic > 30)
    }

    @Test func deterministicPerSeedAndIndex() throws {
        let g = MazeGenerator(size: 12, minPath: 15)
        let a = try (0..<10).map { try g.generate(index: $0, seed: 4) }
        #expect(try (0..<10).map { try g.generate(index: $0, seed: 4) } == a)
        #expect(try g.generate(index: 7, seed: 4) == a[7])
        #expect(try (0..<10).map { try g.generate(index: $0, seed: 5) } != a)
        #expect(MazeCSV.encode(a) == MazeCSV.encode(try (0..<10).map { try g.generate(index: $0, seed: 4) }))
    }

    @Test func impossibleRequestsFailClearly() {
        func message(_ g: MazeGenerator) -> String {
            do {
                _ = try g.generate(index: 0, seed: 0)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(
            message(MazeGenerator(size: 30, minPath: 400, maxAttempts: 3)).contains(
                "no 30×30 maze with a unique shortest path of ≥ 400 moves in 3 draws"))
        #expect(message(MazeGenerator(size: 4, minPath: 16)).contains("a 4×4 maze cannot hold a path of 16 moves"))
        #expect(message(MazeGenerator(size: 1)).contains("too small"))
    }
}
