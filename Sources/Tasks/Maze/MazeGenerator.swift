import TRMCore

/// Draws n×n mazes whose start-goal shortest path is unique, with hardness = its length in moves.
///
/// Construction: grow a tree of open cells over the whole grid from a random cell, opening a wall
/// cell only when exactly one of its 4 neighbours is already open. Each opening adds one edge to one
/// existing cell, so the open cells always form a tree: every pair is joined by exactly one path, on
/// any n (even sides such as 30 included, no lattice of odd coordinates needed). The cell grown from
/// is the newest one half of the time and a random one otherwise, mixing long corridors
/// (depth-first growth) with branching (Prim-like growth). Optionally `loops` then opens walls that
/// touch two or more open cells, adding cycles; S and G are drawn so the shortest path stays unique.
public struct MazeGenerator: Sendable {
    /// Side of the grid.
    public var size: Int
    /// Shortest accepted path, in moves.
    public var minPath: Int
    /// Probability of opening each wall that touches at least two open cells (0 = perfect mazes).
    public var loops: Double
    /// Mazes drawn per puzzle before giving up on `minPath`.
    public var maxAttempts: Int
    /// The `source` column of generated puzzles.
    public var source: String

    /// Start cells tried per drawn maze before drawing another.
    static let startsPerMaze = 8

    public init(size: Int, minPath: Int = 1, loops: Double = 0, maxAttempts: Int = 1000, source: String = "trm-data") {
        self.size = size
        self.minPath = minPath
        self.loops = loops
        self.maxAttempts = maxAttempts
        self.source = source
    }

    /// Puzzle number `index` of the set drawn with `seed`, from its own random stream (independent of
    /// the other puzzles). Throws `TRMError(.invalidInput)` for a side below 2 or when `maxAttempts`
    /// mazes offer no start-goal pair at least `minPath` apart with a unique shortest path.
    public func generate(index: Int, seed: UInt64) throws -> MazePuzzle {
        guard size >= 2 else { throw TRMError(.invalidInput, "maze side \(size) is too small (at least 2)") }
        guard size * size - 1 >= minPath else {
            throw TRMError(.invalidInput, "a \(size)×\(size) maze cannot hold a path of \(minPath) moves")
        }
        var rng = SeededRandom(seed: seed).fork(UInt64(index))
        var longest = 0
        for _ in 0..<max(maxAttempts, 1) {
            switch draw(rng: &rng) {
            case .found(let puzzle): return puzzle
            case .longest(let n): longest = max(longest, n)
            }
        }
        throw TRMError(
            .invalidInput,
            "no \(size)×\(size) maze with a unique shortest path of ≥ \(minPath) moves in "
                + "\(maxAttempts) draws (longest drawn: \(longest)); lower the minimum path or allow more attempts")
    }

    /// The result of one draw: a puzzle, or the longest unique path seen when none was long enough.
    public enum Draw: Sendable {
        case found(MazePuzzle)
        case longest(Int)
    }

    /// Carves one maze and tries `startsPerMaze` random starts for a goal at least `minPath` moves away
    /// with a unique shortest path (the goal uniform among such cells).
    public func draw(rng: inout SeededRandom) -> Draw {
        var maze = carve(rng: &rng)
        let open = maze.cells.indices.filter { maze.cells[$0] == MazeCell.open.rawValue }
        var longest = 0
        for _ in 0..<Self.startsPerMaze {
            let start = open[rng.uniform(open.count)]
            let (distance, paths) = MazeSolver.distances(maze, from: start)
            let goals = open.filter { distance[$0] >= max(minPath, 1) && paths[$0] == 1 }
            guard !goals.isEmpty else {
                longest = max(longest, open.filter { paths[$0] == 1 }.map { Int(distance[$0]) }.max() ?? 0)
                continue
            }
            let goal = goals[rng.uniform(goals.count)]
            maze.cells[start] = MazeCell.start.rawValue
            maze.cells[goal] = MazeCell.goal.rawValue
            guard let answer = MazeSolver.solve(maze) else { preconditionFailure("MazeGenerator: goal became unreachable") }
            return .found(MazePuzzle(source: source, question: maze, answer: answer, rating: Int(distance[goal])))
        }
        return .longest(longest)
    }

    /// The open cells of a random tree (plus `loops` openings), everything else wall.
    func carve(rng: inout SeededRandom) -> Grid {
        let n = size
        var maze = Grid(rows: n, cols: n, cells: [UInt8](repeating: MazeCell.wall.rawValue, count: n * n))
        func openNeighbours(_ cell: Int) -> Int {
            MazeSolver.neighbours(of: cell, in: maze).count
        }
        func wallNeighbours(_ cell: Int) -> [Int] {
            let r = cell / n, c = cell % n
            var out: [Int] = []
            if r > 0 { out.append(cell - n) }
            if r + 1 < n { out.append(cell + n) }
            if c > 0 { out.append(cell - 1) }
            if c + 1 < n { out.append(cell + 1) }
            return out.filter { maze.cells[$0] == MazeCell.wall.rawValue }
        }
        let root = rng.uniform(n * n)
        maze.cells[root] = MazeCell.open.rawValue
        var active = [root]
        while !active.isEmpty {
            let i = rng.uniform(2) == 0 ? active.count - 1 : rng.uniform(active.count)
            let grow = wallNeighbours(active[i]).filter { openNeighbours($0) == 1 }
            if grow.isEmpty {
                active.remove(at: i)
                continue
            }
            let next = grow[rng.uniform(grow.count)]
            maze.cells[next] = MazeCell.open.rawValue
            active.append(next)
        }
        if loops > 0 {
            for cell in 0..<n * n where maze.cells[cell] == MazeCell.wall.rawValue && openNeighbours(cell) >= 2 && rng.chance(loops) {
                maze.cells[cell] = MazeCell.open.rawValue
            }
        }
        return maze
    }
}
