"""The certificate document (証明書データ): its canonical form, issue numbers, sealing by a
municipality and opening by a kiosk. Shared by both sides; imports no web framework."""
