"""The kiosk's development tools: the demo panel and the emulated card in a resident's hand,
residents with their cards, the rehearsal driver, screenshots, and the virtual display."""
