"""How a configured modem becomes its supervisor's settings: config.yaml's values (each
defaulted once, in gateway/config_sections.py) passed down to the modem layer."""

from __future__ import annotations

from gateway.config import Config, ModemConfig
from gateway.modem import ModemSettings


def modem_settings(modem: ModemConfig, config: Config, device: str) -> ModemSettings:
    driver = config.driver
    return ModemSettings(
        name=modem.name,
        device=device,
        pin=modem.pin,
        profile=None if modem.profile == "auto" else modem.profile,
        baud=modem.baud,
        smsc=modem.smsc,
        command_timeout_s=driver.command_timeout_s,
        send_timeout_s=driver.send_timeout_s,
        health_poll_interval_s=driver.health_poll_interval_s,
        silence_timeout_s=driver.silence_timeout_s,
        min_send_interval_s=modem.min_send_interval_s,
        reconnect_initial_s=driver.reconnect_backoff_initial_s,
        reconnect_max_s=driver.reconnect_backoff_max_s,
        busy_retry_window_s=driver.sim_busy_timeout_s,
        busy_retry_interval_s=driver.sim_busy_retry_s,
        sink_retry_initial_s=config.inbound.db_retry_interval_s,
        log_message_text=config.logging.log_message_text,
    )
