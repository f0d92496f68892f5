/// The shortest start-goal path of a maze.
public struct MazePath: Hashable, Sendable {
    /// Moves from S to G (cells on the path, S and G included, minus one): the maze's hardness.
    public var length: Int
    /// True when no other path of the same length exists.
    public var isUnique: Bool
    /// Cell indices (row-major) from S to G inclusive; one of the shortest paths.
    public var cells: [Int]
}

/// Breadth-first search on maze grids (4-neighbour moves through every cell that is not a wall).
public enum MazeSolver {
    /// Why `maze` does not have exactly one start and one goal, or nil.
    public static func endpointProblem(_ maze: Grid) -> String? {
        let starts = maze.cells.count(where: { $0 == MazeCell.start.rawValue })
        let goals = maze.cells.count(where: { $0 == MazeCell.goal.rawValue })
        if starts != 1 { return "\(starts) start cells ('S'), expected exactly one" }
        if goals != 1 { return "\(goals) goal cells ('G'), expected exactly one" }
        return nil
    }

    /// Distances (moves, -1 where unreachable) from `source` and the number of shortest paths to every
    /// cell, saturated at 2 because only "one or more than one" matters.
    public static func distances(_ maze: Grid, from source: Int) -> (distance: [Int32], paths: [UInt8]) {
        let n = maze.cells.count, cols = maze.cols
        var distance = [Int32](repeating: -1, count: n)
        var paths = [UInt8](repeating: 0, count: n)
        var queue = [Int](repeating: 0, count: n)
        var head = 0, tail = 1
        queue[0] = source
        distance[source] = 0
        paths[source] = 1
        while head < tail {
            let cell = queue[head]
            head += 1
            let r = cell / cols, c = cell % cols
            for (nr, nc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)] where nr >= 0 && nr < maze.rows && nc >= 0 && nc < cols {
                let next = nr * cols + nc
                guard maze.cells[next] != MazeCell.wall.rawValue else { continue }
                if distance[next] < 0 {
                    distance[next] = distance[cell] + 1
                    queue[tail] = next
                    tail += 1
                }
                if distance[next] == distance[cell] + 1 { paths[next] = min(2, paths[next] + paths[cell]) }
            }
        }
        return (distance, paths)
    }

    /// The shortest S-G path, or nil when the maze lacks exactly one S and one G or G is unreachable.
    public static func shortestPath(_ maze: Grid) -> MazePath? {
        guard endpointProblem(maze) == nil,
            let start = maze.cells.firstIndex(of: MazeCell.start.rawValue),
            let goal = maze.cells.firstIndex(of: MazeCell.goal.rawValue)
        else { return nil }
        let (distance, paths) = distances(maze, from: start)
        guard distance[goal] >= 0 else { return nil }
        // Walk back from G through cells one move closer to S.
        var cells = [goal]
        var cell = goal
        while cell != start {
            cell = neighbours(of: cell, in: maze).first { distance[$0] == distance[cell] - 1 }!
            cells.append(cell)
        }
        return MazePath(length: Int(distance[goal]), isUnique: paths[goal] == 1, cells: cells.reversed())
    }

    /// The answer for a question maze: the shortest path's inner cells marked `path`, or nil as for
    /// `shortestPath`. With several shortest paths this marks one of them.
    public static func solve(_ maze: Grid) -> Grid? {
        guard let path = shortestPath(maze) else { return nil }
        var answer = maze
        for cell in path.cells.dropFirst().dropLast() { answer.cells[cell] = MazeCell.path.rawValue }
        return answer
    }

    /// Why `answer` is not `question` with one shortest S-G path marked, or nil. The question must have
    /// exactly one S and one G and no path cells; the answer may differ from it only by path marks on
    /// open cells, and those marks must be one shortest path (a chain from S to G, one mark per step).
    public static func answerProblem(question: Grid, answer: Grid) -> String? {
        guard question.rows == answer.rows, question.cols == answer.cols else { return "answer and question differ in size" }
        if let p = endpointProblem(question) { return "question has \(p)" }
        if let i = question.cells.firstIndex(of: MazeCell.path.rawValue) {
            return "question marks a path cell at \(cellName(i, question.cols))"
        }
        for i in question.cells.indices where answer.cells[i] != question.cells[i] {
            if question.cells[i] == MazeCell.open.rawValue && answer.cells[i] == MazeCell.path.rawValue { continue }
            return
                "answer has '\(MazeCell(rawValue: answer.cells[i])!.character)' at \(cellName(i, question.cols)) where the question has '\(MazeCell(rawValue: question.cells[i])!.character)'"
        }
        let start = question.cells.firstIndex(of: MazeCell.start.rawValue)!
        let goal = question.cells.firstIndex(of: MazeCell.goal.rawValue)!
        let (distance, _) = distances(question, from: start)
        let length = Int(distance[goal])
        guard length > 0 else { return "the goal cannot be reached from the start" }
        let marked = answer.cells.count(where: { $0 == MazeCell.path.rawValue })
        guard marked == length - 1 else { return "answer marks \(marked) path cells; the shortest path has \(length - 1) between S and G" }
        // With one mark per distance the marks form a path iff every step finds the next one adjacent.
        var cell = start
        for step in 1..<length {
            guard
                let next = neighbours(of: cell, in: answer).first(where: {
                    answer.cells[$0] == MazeCell.path.rawValue && distance[$0] == step
                })
            else {
                return "answer's path is not a shortest path: no marked cell \(step) moves from S next to \(cellName(cell, question.cols))"
            }
            cell = next
        }
        guard neighbours(of: cell, in: answer).contains(goal) else { return "answer's path does not end next to G" }
        return nil
    }

    static func neighbours(of cell: Int, in maze: Grid) -> [Int] {
        let r = cell / maze.cols, c = cell % maze.cols
        var out: [Int] = []
        if r > 0 { out.append(cell - maze.cols) }
        if r + 1 < maze.rows { out.append(cell + maze.cols) }
        if c > 0 { out.append(cell - 1) }
        if c + 1 < maze.cols { out.append(cell + 1) }
        return out.filter { maze.cells[$0] != MazeCell.wall.rawValue }
    }
}
