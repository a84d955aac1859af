"""The demo shop simulator: a Japanese food and subscription e-commerce world."""

from tokui.demo.config import PERSONAS, SimConfig
from tokui.demo.generate import GenerateReport, generate
from tokui.demo.world import World, simulate

__all__ = ["PERSONAS", "GenerateReport", "SimConfig", "World", "generate", "simulate"]
