#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints `message` to standard error.
public func printError(_ message: String) {
    fputs(message + "\n", stderr)
}

/// Runs a command's body, turning errors into a message on stderr and a non-zero exit (2 for usage
/// errors, 1 otherwise), never a crash.
public func runCommand(_ tool: String, _ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch let e as UsageError {
        printError("\(tool): \(e.message)\nRun '\(tool) --help' for usage.")
        exit(2)
    } catch {
        printError("\(tool): error: \(error)")
        exit(1)
    }
}
