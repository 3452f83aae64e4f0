import Dispatch
import Foundation
import OnboardCore

/// Iterates samples with their image tensors, loading sample i+1 on a background thread while the
/// caller works on sample i. With `skipBad`, a sample whose image fails is left out (warning on
/// stderr, counted in `skippedCount`); otherwise the error is thrown from `next()`.
public final class SamplePrefetcher: @unchecked Sendable {
    public typealias Item = (sample: CameraSample, images: Tensor)

    private let reader: NuScenesSampleReader
    private let samples: [CameraSample]
    private let threads: Int
    private var position = 0
    private var pending: (index: Int, group: DispatchGroup, box: ResultBox)?
    public private(set) var skippedCount = 0

    public init(reader: NuScenesSampleReader, samples: [CameraSample], threads: Int) {
        self.reader = reader; self.samples = samples; self.threads = max(1, threads)
    }

    public func next() throws -> Item? {
        while position < samples.count {
            let index = position
            let result = take(index)
            position += 1
            if position < samples.count { start(position) }
            switch result {
            case let .success(images): return (samples[index], images)
            case let .failure(error):
                guard reader.skipBad, let error = error as? OnboardError else { throw error }
                skippedCount += 1
                reader.warn("skipping sample \(samples[index].token): \(error.description)")
            }
        }
        return nil
    }

    private func start(_ index: Int) {
        let group = DispatchGroup(), box = ResultBox()
        let reader = self.reader, sample = samples[index], threads = self.threads
        DispatchQueue.global().async(group: group) {
            box.result = Result { try reader.images(of: sample, threads: threads) }
        }
        pending = (index, group, box)
    }

    private func take(_ index: Int) -> Result<Tensor, Error> {
        if let pending, pending.index == index {
            pending.group.wait()
            self.pending = nil
            return pending.box.result ?? .failure(OnboardError.invalidArgument("prefetch produced nothing"))
        }
        return Result { try reader.images(of: samples[index], threads: threads) }
    }
}

/// Written by one background task, read after its group finished.
private final class ResultBox: @unchecked Sendable {
    var result: Result<Tensor, Error>?
}
