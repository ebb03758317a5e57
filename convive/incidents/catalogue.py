"""The default catalogue of incident types, in Spanish and English (the demo ships it).

Each type carries its default priority (P1 most urgent), the questions the call-taker must ask
(protocol, in order: the first ones decide the response), the unit capabilities it needs and, for
crimes, the UNODC ICCS code, chosen as in ``convive/reports/catalogue.py``: ICCS has no code of its
own for violence in the family, so domestic violence carries assault (02011) with the relationship
as a disaggregation; a fight is mutual assault (02011); shots fired are the use of weapons (09011).
Emergencies that are not crimes (fire, medical, traffic accidents, missing people, noise) carry no
code. ``convive.incidents.actions.check_install_incident_types`` installs it (idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass

from convive.incidents.models import Capability, Priority

P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
PATROL, MOTORCYCLE = Capability.PATROL, Capability.MOTORCYCLE
AMBULANCE, FIRE = Capability.AMBULANCE, Capability.FIRE
CIVIL_PROTECTION, WOMEN_CARE = Capability.CIVIL_PROTECTION, Capability.WOMEN_CARE


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    question_es: str
    question_en: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "question_es": self.question_es, "question_en": self.question_en}


@dataclass(frozen=True)
class TypeSpec:
    code: str
    name_es: str
    name_en: str
    priority: int
    capabilities: tuple[str, ...]
    questions: tuple[QuestionSpec, ...]
    iccs_code: str = ""


Q = QuestionSpec
WEAPONS = Q("armas", "¿Hay armas? ¿De qué tipo?", "Are there weapons? What kind?")
INJURED = Q("heridos", "¿Hay personas heridas? ¿Cuántas?", "Is anyone injured? How many?")
NOW = Q("en-curso", "¿Está pasando ahora mismo?", "Is it happening right now?")
ESCAPE = Q(
    "huida",
    "¿Hacia dónde huyeron y cómo (a pie, moto, carro, placa)?",
    "Where did they flee, and how (on foot, motorcycle, car, plate)?",
)
TRAPPED = Q("atrapados", "¿Hay personas atrapadas?", "Is anyone trapped?")
AGGRESSOR_THERE = Q(
    "agresor-presente", "¿El agresor sigue en el lugar?", "Is the aggressor still there?"
)

INCIDENT_TYPES: tuple[TypeSpec, ...] = (
    TypeSpec(
        "sos",
        "Emergencia SOS (app)",
        "SOS emergency (app)",
        P1,
        (PATROL,),
        (
            Q("puede-hablar", "¿Puede hablar sin peligro?", "Can you speak safely?"),
            Q("que-pasa", "¿Qué está pasando?", "What is happening?"),
            INJURED,
        ),
    ),
    TypeSpec(
        "boton-panico",
        "Botón de pánico",
        "Panic button",
        P1,
        (PATROL,),
        (
            Q("respuesta", "¿Alguien responde en el botón?", "Does anyone answer at the button?"),
            Q(
                "camara",
                "¿Qué muestra la cámara más cercana?",
                "What does the nearest camera show?",
            ),
        ),
    ),
    TypeSpec(
        "robo-violencia",
        "Robo con violencia",
        "Robbery with violence",
        P2,
        (PATROL, MOTORCYCLE),
        (NOW, WEAPONS, INJURED, ESCAPE),
        iccs_code="0401",
    ),
    TypeSpec(
        "hurto",
        "Hurto",
        "Theft",
        P3,
        (PATROL,),
        (
            Q("que", "¿Qué se llevaron?", "What was taken?"),
            Q("cuando", "¿Cuándo ocurrió?", "When did it happen?"),
            ESCAPE,
        ),
        iccs_code="0502",
    ),
    TypeSpec(
        "hurto-vehiculo",
        "Hurto de vehículo o moto",
        "Vehicle or motorcycle theft",
        P3,
        (PATROL, MOTORCYCLE),
        (
            Q("placa", "¿Cuál es la placa?", "What is the number plate?"),
            Q("vehiculo", "¿Marca, modelo y color?", "Make, model and colour?"),
            Q("cuando", "¿Hace cuánto ocurrió?", "How long ago did it happen?"),
        ),
        iccs_code="05021",
    ),
    TypeSpec(
        "violencia-intrafamiliar",
        "Violencia intrafamiliar",
        "Domestic violence",
        P1,
        (PATROL, WOMEN_CARE),
        (
            AGGRESSOR_THERE,
            WEAPONS,
            Q("menores", "¿Hay niñas o niños en riesgo?", "Are children at risk?"),
            INJURED,
        ),
        iccs_code="02011",
    ),
    TypeSpec(
        "abuso-sexual",
        "Abuso sexual",
        "Sexual assault",
        P1,
        (PATROL, WOMEN_CARE, AMBULANCE),
        (
            Q("a-salvo", "¿La víctima está a salvo ahora?", "Is the victim safe now?"),
            Q(
                "atencion-medica",
                "¿Necesita atención médica?",
                "Does the victim need medical care?",
            ),
            AGGRESSOR_THERE,
        ),
        iccs_code="0301",
    ),
    TypeSpec(
        "rina",
        "Riña",
        "Fight",
        P2,
        (PATROL,),
        (
            Q("personas", "¿Cuántas personas pelean?", "How many people are fighting?"),
            WEAPONS,
            INJURED,
        ),
        iccs_code="02011",
    ),
    TypeSpec(
        "disparos",
        "Disparos",
        "Shots fired",
        P1,
        (PATROL, MOTORCYCLE, AMBULANCE),
        (
            INJURED,
            Q("tirador", "¿Dónde está quien disparó?", "Where is the shooter?"),
            Q("cuantos", "¿Cuántos disparos escuchó?", "How many shots did you hear?"),
        ),
        iccs_code="09011",
    ),
    TypeSpec(
        "lesiones-arma",
        "Persona herida con arma",
        "Person wounded with a weapon",
        P1,
        (PATROL, AMBULANCE),
        (
            Q(
                "respira",
                "¿La persona herida respira y está consciente?",
                "Is the victim breathing and conscious?",
            ),
            WEAPONS,
            AGGRESSOR_THERE,
        ),
        iccs_code="020111",
    ),
    TypeSpec(
        "amenaza",
        "Amenaza",
        "Threat",
        P3,
        (PATROL,),
        (
            Q("inmediata", "¿La amenaza es inmediata?", "Is the threat immediate?"),
            Q("quien", "¿Quién amenaza? ¿Lo conoce?", "Who is threatening? Do you know them?"),
            WEAPONS,
        ),
        iccs_code="02012",
    ),
    TypeSpec(
        "extorsion",
        "Extorsión",
        "Extortion",
        P3,
        (PATROL,),
        (
            Q(
                "como",
                "¿Cómo le contactan (llamada, mensaje, en persona)?",
                "How do they contact you (call, message, in person)?",
            ),
            Q("plazo", "¿Le dieron un plazo para pagar?", "Were you given a deadline to pay?"),
        ),
        iccs_code="02051",
    ),
    TypeSpec(
        "secuestro",
        "Secuestro",
        "Kidnapping",
        P1,
        (PATROL, MOTORCYCLE),
        (
            Q("cuando", "¿Cuándo y dónde se la llevaron?", "When and where was the person taken?"),
            Q("vehiculo", "¿En qué vehículo (placa, color)?", "In what vehicle (plate, colour)?"),
            Q("direccion", "¿Hacia dónde fueron?", "Which way did they go?"),
        ),
        iccs_code="020221",
    ),
    TypeSpec(
        "persona-desaparecida",
        "Persona desaparecida",
        "Missing person",
        P2,
        (PATROL,),
        (
            Q("edad", "¿Qué edad tiene?", "How old is the person?"),
            Q("ropa", "¿Cómo es y cómo va vestida?", "What do they look like and wear?"),
            Q(
                "ultima-vez",
                "¿Dónde y cuándo se la vio por última vez?",
                "Where and when were they last seen?",
            ),
            Q("salud", "¿Tiene alguna condición de salud?", "Do they have a health condition?"),
        ),
    ),
    TypeSpec(
        "accidente-heridos",
        "Accidente de tránsito con heridos",
        "Traffic accident with injuries",
        P1,
        (AMBULANCE, PATROL, MOTORCYCLE),
        (
            INJURED,
            TRAPPED,
            Q(
                "combustible",
                "¿Hay fuego o derrame de combustible?",
                "Is there fire or fuel spilt?",
            ),
        ),
    ),
    TypeSpec(
        "accidente-sin-heridos",
        "Accidente de tránsito sin heridos",
        "Traffic accident without injuries",
        P4,
        (MOTORCYCLE,),
        (
            Q("via", "¿Está bloqueada la vía?", "Is the road blocked?"),
            Q("vehiculos", "¿Cuántos vehículos?", "How many vehicles?"),
        ),
    ),
    TypeSpec(
        "incendio",
        "Incendio",
        "Fire",
        P1,
        (FIRE, AMBULANCE, CIVIL_PROTECTION),
        (
            TRAPPED,
            Q("que-se-quema", "¿Qué se está quemando?", "What is burning?"),
            INJURED,
        ),
    ),
    TypeSpec(
        "urgencia-medica",
        "Urgencia médica",
        "Medical emergency",
        P1,
        (AMBULANCE,),
        (
            Q("respira", "¿La persona respira?", "Is the person breathing?"),
            Q("consciente", "¿Está consciente?", "Is the person conscious?"),
            Q("edad", "¿Qué edad tiene aproximadamente?", "Roughly how old is the person?"),
        ),
    ),
    TypeSpec(
        "deslizamiento-colapso",
        "Deslizamiento o colapso de estructura",
        "Landslide or collapsed structure",
        P1,
        (CIVIL_PROTECTION, FIRE, AMBULANCE),
        (TRAPPED, INJURED, Q("riesgo", "¿Hay más casas en riesgo?", "Are more homes at risk?")),
    ),
    TypeSpec(
        "inundacion",
        "Inundación",
        "Flood",
        P2,
        (CIVIL_PROTECTION,),
        (
            TRAPPED,
            Q("nivel", "¿Hasta dónde llega el agua?", "How high is the water?"),
        ),
    ),
    TypeSpec(
        "ruido",
        "Ruido",
        "Noise",
        P4,
        (PATROL,),
        (
            Q("fuente", "¿Qué produce el ruido?", "What is making the noise?"),
            Q("desde", "¿Desde cuándo?", "Since when?"),
        ),
    ),
)
