/// The records of one table with a token index.
public struct NuScenesTable<Record: NuScenesRecord>: Sendable {
    public let records: [Record]
    private let indexByToken: [String: Int]

    /// Throws on a duplicate token, naming the table file.
    public init(_ records: [Record], path: String) throws {
        var index: [String: Int] = [:]
        index.reserveCapacity(records.count)
        for (i, record) in records.enumerated() {
            guard index.updateValue(i, forKey: record.token) == nil else {
                throw OnboardError.format(path: path, item: "token \(record.token)", reason: "duplicate token")
            }
        }
        self.records = records
        self.indexByToken = index
    }

    public subscript(token: String) -> Record? {
        indexByToken[token].map { records[$0] }
    }

    public func index(of token: String) -> Int? { indexByToken[token] }

    public func contains(_ token: String) -> Bool { indexByToken[token] != nil }

    public var count: Int { records.count }
}

import OnboardCore
