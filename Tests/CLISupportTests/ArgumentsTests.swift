import Testing
@testable import CLISupport

@Suite struct ArgumentsTests {
    let options: [Arguments.Option] = [.init("out", "FILE", short: "o", help: "o"), .init("n", "N", help: "n"), .init("quiet", help: "q")]

    @Test func parsesForms() throws {
        let a = try Arguments(["in.ckpt", "-o", "x", "--n=3", "--quiet"], options: options)
        #expect(a.positional == ["in.ckpt"])
        #expect(a.string("out") == "x")
        #expect(try a.int("n", in: 1...5) == 3)
        #expect(a.has("quiet"))
    }

    @Test func refusesBadInput() throws {
        #expect(throws: UsageError.self) { try Arguments(["--bogus"], options: options) }
        #expect(throws: UsageError.self) { try Arguments(["--out"], options: options) }
        #expect(throws: UsageError.self) { try Arguments(["--quiet=1"], options: options) }
        #expect(throws: UsageError.self) { try Arguments(["--n", "x"], options: options).int("n") }
        #expect(throws: UsageError.self) { try Arguments(["--n", "9"], options: options).int("n", in: 1...5) }
    }
}
