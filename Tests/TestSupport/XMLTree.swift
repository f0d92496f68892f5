import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML document parsed into a tree (with Foundation's `XMLParser`; `XMLDocument` is missing on
/// Linux), for tests of the SVG and HTML files trm writes: parsing fails on anything that is not
/// well-formed, and the tree answers which elements, attributes and texts are there.
public final class XMLTree {
    public let name: String
    public let attributes: [String: String]
    /// The elements directly inside this one.
    public var children: [XMLTree] {
        content.compactMap {
            guard case .element(let e) = $0 else { return nil }
            return e
        }
    }
    /// Character data and elements directly inside this element, in document order.
    var content: [Content] = []

    enum Content {
        case text(String)
        case element(XMLTree)
    }

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    /// The text of this element and of everything inside it, in document order.
    public var text: String {
        content.map {
            switch $0 {
            case .text(let s): return s
            case .element(let e): return e.text
            }
        }.joined()
    }

    /// This element and every element inside it, in document order, named `name` (any name: nil).
    public func all(_ name: String? = nil) -> [XMLTree] {
        (name == nil || self.name == name ? [self] : []) + children.flatMap { $0.all(name) }
    }

    /// Elements named `name` whose class attribute lists `cssClass`.
    public func all(_ name: String, cssClass: String) -> [XMLTree] {
        all(name).filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cssClass)) }
    }

    /// Parses `data`; throws with the parser's line and message when it is not well-formed XML.
    public static func parse(_ data: Data) throws -> XMLTree {
        let parser = XMLParser(data: data)
        let builder = Builder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw ParseError(line: parser.lineNumber, message: parser.parserError.map { "\($0)" } ?? "no root element")
        }
        return root
    }

    /// Parses the file at `path`.
    public static func parse(path: String) throws -> XMLTree {
        try parse(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "not well-formed XML at line \(line): \(message)" }
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLTree?
        var stack: [XMLTree] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            let node = XMLTree(name: elementName, attributes: attributes)
            if let parent = stack.last { parent.content.append(.element(node)) } else { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.content.append(.text(string))
        }
    }
}
