import Foundation

/// Multinomial naive Bayes over word unigrams and adjacent pairs, learnt from resolved tickets; no external service.
/// Explainable: a prediction names the terms that weighed most for its label. Deterministic: the same examples give
/// the same model, the same predictions and the same JSON.
public struct TextClassifier: Sendable, Codable, Equatable {
    public struct Example: Sendable, Equatable {
        /// Subject and description, joined by a space or a newline.
        public var text: String
        public var label: String

        public init(text: String, label: String) {
            self.text = text
            self.label = label
        }
    }

    public struct Prediction: Sendable, Equatable, Codable {
        public var label: String
        /// Posterior probability of `label` given the text, 0...1 (naive Bayes is overconfident: rank, don't trust).
        public var confidence: Double
        /// The terms of the text that weighed most for `label`, strongest first, at most five.
        public var topTerms: [Term]

        public init(label: String, confidence: Double, topTerms: [Term]) {
            self.label = label
            self.confidence = confidence
            self.topTerms = topTerms
        }
    }

    public struct Term: Sendable, Equatable, Codable {
        public var term: String
        /// Occurrences × (ln P(term | label) − ln of the mean P(term | other label)): how many nats the term adds
        /// for the label over an average other label. Only positive weights are reported.
        public var weight: Double

        public init(term: String, weight: Double) {
            self.term = term
            self.weight = weight
        }
    }

    public struct Evaluation: Sendable, Equatable, Codable {
        public var trainCount: Int
        public var testCount: Int
        /// Share of held-out examples predicted right; a text with no known term counts as wrong.
        public var accuracy: Double
        /// Mean F1 over the labels that are true or predicted in the held-out set.
        public var macroF1: Double
        /// Accuracy and macro-F1 of always answering the most frequent training label.
        public var baselineAccuracy: Double
        public var baselineMacroF1: Double
    }

    /// Additive smoothing, below Laplace's 1: pairs make the vocabulary large and sparse. 0.1 scored best in
    /// 10-fold cross-validation on the demo history (2026-11, Triage issue item 4); 0.05–0.3 are within noise.
    public static let smoothing = 0.1
    /// Pairs seen fewer times in training are dropped (nearly two thirds of them: half the model, accuracy within noise);
    /// every word is kept, as rare words decide short tickets in the less common languages.
    public static let minimumPairCount = 2
    public static let maximumTopTerms = 5

    /// Sorted, distinct.
    public let labels: [String]
    /// Training examples per label, in `labels` order.
    public let labelCounts: [Int]
    /// Occurrences of each kept term per label, in `labels` order: the model as stored.
    let termCounts: [String: [Int]]
    let alpha: Double

    private let logPriors: [Double]
    /// ln P(term | label) per term, in `labels` order.
    private let logLikelihoods: [String: [Double]]

    public var vocabularySize: Int { termCounts.count }
    public var exampleCount: Int { labelCounts.reduce(0, +) }

    init(labels: [String], labelCounts: [Int], termCounts: [String: [Int]], alpha: Double) {
        self.labels = labels
        self.labelCounts = labelCounts
        self.termCounts = termCounts
        self.alpha = alpha
        let examples = Double(labelCounts.reduce(0, +))
        logPriors = labelCounts.map { log(Double($0) / examples) }
        var totals = [Int](repeating: 0, count: labels.count)
        for counts in termCounts.values {
            for index in counts.indices { totals[index] += counts[index] }
        }
        let denominators = totals.map { Double($0) + alpha * Double(termCounts.count) }
        logLikelihoods = termCounts.mapValues { counts in
            counts.indices.map { log((Double(counts[$0]) + alpha) / denominators[$0]) }
        }
    }

    /// A model of `examples`; an empty model (no labels, predicts nothing) for none.
    public static func train(_ examples: [Example]) -> TextClassifier {
        let labels = Set(examples.map(\.label)).sorted()
        let labelIndex = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var labelCounts = [Int](repeating: 0, count: labels.count)
        var termCounts: [String: [Int]] = [:]
        let zeros = [Int](repeating: 0, count: labels.count)
        for example in examples {
            let index = labelIndex[example.label]!
            labelCounts[index] += 1
            for token in tokens(example.text) { termCounts[token, default: zeros][index] += 1 }
        }
        let kept = termCounts.filter { !$0.key.contains(" ") || $0.value.reduce(0, +) >= minimumPairCount }
        return TextClassifier(labels: labels, labelCounts: labelCounts, termCounts: kept, alpha: smoothing)
    }

    /// The most probable label; nil when the model is empty or the text has no known term.
    public func predict(_ text: String) -> Prediction? {
        guard !labels.isEmpty else { return nil }
        var scores = logPriors
        var occurrences: [String: Int] = [:]
        for token in Self.tokens(text) {
            guard let likelihoods = logLikelihoods[token] else { continue }
            for index in scores.indices { scores[index] += likelihoods[index] }
            occurrences[token, default: 0] += 1
        }
        guard !occurrences.isEmpty else { return nil }
        let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
        let confidence = 1 / scores.reduce(0) { $0 + exp($1 - scores[best]) }
        return Prediction(label: labels[best], confidence: confidence, topTerms: topTerms(occurrences, for: best))
    }

    private func topTerms(_ occurrences: [String: Int], for label: Int) -> [Term] {
        let others = labels.indices.filter { $0 != label }
        guard !others.isEmpty else { return [] }
        let terms = occurrences.compactMap { term, count -> Term? in
            let likelihoods = logLikelihoods[term]!
            let otherMax = others.map { likelihoods[$0] }.max()!
            let otherMean = otherMax + log(others.reduce(0) { $0 + exp(likelihoods[$1] - otherMax) } / Double(others.count))
            let weight = Double(count) * (likelihoods[label] - otherMean)
            return weight > 0 ? Term(term: term, weight: weight) : nil
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.term < $1.term) }.prefix(Self.maximumTopTerms))
    }

    /// Held-out evaluation on the split below, against always answering the majority label.
    public static func evaluate(_ examples: [Example], testShare: Double = 0.2) -> (classifier: TextClassifier, evaluation: Evaluation) {
        let (trainSet, testSet) = split(examples, testShare: testShare)
        let classifier = train(trainSet)
        let truth = testSet.map(\.label)
        let predicted = testSet.map { classifier.predict($0.text)?.label }
        let majority = classifier.labels.indices.max {
            classifier.labelCounts[$0] < classifier.labelCounts[$1] || (classifier.labelCounts[$0] == classifier.labelCounts[$1] && $0 > $1)
        }.map { classifier.labels[$0] }
        let baseline = [String?](repeating: majority, count: testSet.count)
        let evaluation = Evaluation(
            trainCount: trainSet.count, testCount: testSet.count, accuracy: accuracy(truth, predicted), macroF1: macroF1(truth, predicted),
            baselineAccuracy: accuracy(truth, baseline), baselineMacroF1: macroF1(truth, baseline))
        return (classifier, evaluation)
    }

    /// Held out: an example whose text hashes (FNV-1a, stable across runs and platforms) into the first `testShare`.
    /// Duplicate texts fall on the same side, so the test set never repeats a training text.
    public static func split(_ examples: [Example], testShare: Double = 0.2) -> (train: [Example], test: [Example]) {
        let threshold = UInt64((min(max(testShare, 0), 1) * 10_000).rounded())
        var trainSet: [Example] = []
        var testSet: [Example] = []
        for example in examples {
            if stableHash(example.text) % 10_000 < threshold { testSet.append(example) } else { trainSet.append(example) }
        }
        return (trainSet, testSet)
    }

    /// Unigrams, then adjacent pairs ("vpn down"): the text's `words` without one-letter words and stop words.
    public static func tokens(_ text: String) -> [String] {
        let kept = words(text).filter { $0.count > 1 && !stopWords.contains($0) }
        return kept + zip(kept, kept.dropFirst()).map { "\($0) \($1)" }
    }

    /// The words of a text, folded to lower case without accents and split on non-alphanumerics:
    /// what the classifier reads, and what a rule's keywords are matched against.
    public static func words(_ text: String) -> [String] {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        var words: [String] = []
        var word = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.append(scalar)
            } else if !word.isEmpty {
                words.append(String(word))
                word = String.UnicodeScalarView()
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// Function words of the help desk's languages (English, German, French, Spanish, Dutch), folded like tokens.
    static let stopWords: Set<String> = [
        // English
        "the", "an", "and", "or", "is", "are", "was", "were", "be", "been", "to", "of", "in", "on", "at", "for", "with", "it", "its",
        "my", "me", "we", "our", "you", "your", "he", "she", "they", "this", "that", "these", "there", "have", "has", "had", "do",
        "does", "did", "can", "could", "would", "will", "please", "pls", "hi", "hello", "hey", "thanks", "thank", "regards", "best",
        "kind", "dear", "from", "by", "as", "so", "but", "if", "am", "im", "also", "just", "any", "some", "all", "what",
        "his", "her", "him", "them", "who", "which", "when", "how", "being", "ve", "ll", "re",
        // German
        "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "und", "oder", "ist", "sind", "ich", "mein",
        "meine", "meinen", "mir", "mich", "wir", "ihr", "sie", "es", "zu", "mit", "auf", "fur", "von", "bei", "nicht", "kein",
        "bitte", "danke", "hallo", "gruss", "grusse", "viele", "vielen", "auch", "noch", "schon", "wie", "dass", "ab", "habe", "hat",
        "kann", "konnt", "konnen", "euch", "uns", "sich", "wird", "wurde", "mal", "aber", "wenn", "man", "da", "zum", "zur",
        // French
        "le", "la", "les", "de", "du", "un", "une", "et", "est", "je", "mon", "ma", "mes", "ne", "pas", "que", "qui", "pour",
        "sur", "dans", "il", "elle", "nous", "vous", "ce", "cette", "au", "aux", "avec", "bonjour", "merci", "svp", "cordialement",
        "ai", "suis", "sont", "mais", "ou", "son", "sa", "ses", "leur", "moi", "plus", "tres",
        // Spanish
        "el", "los", "las", "del", "una", "unos", "por", "para", "con", "mi", "mis", "se", "lo", "te", "esta", "hola",
        "gracias", "saludos", "muy", "ya", "pero", "como", "ha", "hay", "estoy", "tengo", "podeis", "su", "sus",
        // Dutch
        "het", "een", "en", "ik", "mijn", "van", "niet", "op", "dat", "er", "voor", "aan", "ook", "maar", "bij", "wel", "nog",
        "hoi", "bedankt", "groet", "groeten", "heb", "hebben", "zijn", "kan", "kunnen", "jullie", "wij", "ze", "deze", "dit", "om",
        "naar", "als", "even", "al", "meer",
    ]

    private static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    private static func accuracy(_ truth: [String], _ predicted: [String?]) -> Double {
        guard !truth.isEmpty else { return 0 }
        return Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(truth.count)
    }

    private static func macroF1(_ truth: [String], _ predicted: [String?]) -> Double {
        let labels = Set(truth).union(predicted.compactMap { $0 }).sorted()
        guard !labels.isEmpty else { return 0 }
        let scores = labels.map { label -> Double in
            let truePositives = zip(truth, predicted).filter { $0 == label && $1 == label }.count
            let actual = truth.filter { $0 == label }.count
            let claimed = predicted.filter { $0 == label }.count
            return actual + claimed == 0 ? 0 : 2 * Double(truePositives) / Double(actual + claimed)
        }
        return scores.reduce(0, +) / Double(labels.count)
    }

    // MARK: Codable and Equatable: the counts are the model; probabilities are derived on decoding.

    enum CodingKeys: String, CodingKey {
        case labels, labelCounts, termCounts, smoothing
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let labels = try container.decode([String].self, forKey: .labels)
        let labelCounts = try container.decode([Int].self, forKey: .labelCounts)
        let termCounts = try container.decode([String: [Int]].self, forKey: .termCounts)
        let alpha = try container.decode(Double.self, forKey: .smoothing)
        guard labelCounts.count == labels.count, termCounts.values.allSatisfy({ $0.count == labels.count }) else {
            throw DecodingError.dataCorruptedError(forKey: .termCounts, in: container, debugDescription: "counts do not match the labels")
        }
        guard alpha > 0 else { throw DecodingError.dataCorruptedError(forKey: .smoothing, in: container, debugDescription: "smoothing must be positive") }
        self.init(labels: labels, labelCounts: labelCounts, termCounts: termCounts, alpha: alpha)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(labelCounts, forKey: .labelCounts)
        try container.encode(termCounts, forKey: .termCounts)
        try container.encode(alpha, forKey: .smoothing)
    }

    public static func == (lhs: TextClassifier, rhs: TextClassifier) -> Bool {
        lhs.labels == rhs.labels && lhs.labelCounts == rhs.labelCounts && lhs.termCounts == rhs.termCounts && lhs.alpha == rhs.alpha
    }
}
