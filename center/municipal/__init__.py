"""The municipal side: a municipality's record stores and its certificate issuance server
(証明書交付サーバ), simulated one database per municipality (see ``docs/municipal.md``)."""
