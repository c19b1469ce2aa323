from django.apps import AppConfig


class SimulationConfig(AppConfig):
    """Simulators and demo data: the routing engine simulator, the simulated market and the
    demo customers. Production code never imports this package."""

    name = "trading.simulation"
    label = "simulation"
    verbose_name = "Simulation and demo data"
