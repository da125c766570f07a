/// RFC 4648 base32, as an authenticator app reads the TOTP secret a person types in.
public enum Base32 {
    /// The text whose bytes `encoded` spells; nil when it is not base32 of UTF-8.
    public static func decode(_ encoded: String) -> String? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var (bits, value) = (0, 0)
        var bytes: [UInt8] = []
        for character in encoded.uppercased() where character != "=" {
            guard let index = alphabet.firstIndex(of: character) else { return nil }
            value = ((value << 5) | index) & 0xFFFF  // the bits not yet read fit in 12
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }
}
