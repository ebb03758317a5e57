"""The default catalogue of report categories, in Spanish and English, and its installer.

Security categories carry the UNODC ICCS code of the crime (``convive/reports/iccs.py``), so
that cities can compare figures. ICCS has no code of its own for violence within the family or
by a partner: it records the relationship as a disaggregation of the act, so that category
carries the code of assault. Coexistence and prevention problems (noise, fights between
neighbours, and the environmental problems of CPTED: dark streets, abandoned lots, rubbish,
walls that hide) have no ICCS code.

Publication (what open data and "is it this one?" may show; ``docs/privacy.md``): ``none`` for
crimes against people and anything that could expose a victim or the person who reported;
``coarse`` (area only, no description) where a place matters but a person could be exposed;
``full`` for problems of the place itself (lighting, lots, rubbish).

``do_install_catalogue`` adds what is missing and brings existing categories (matched by
``code``) and their questions (by category and ``code``) up to this text. It never deletes, and
it leaves ``active`` as an administrator set it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convive.accounts.models import User
from convive.reports.models import Category, Question

SECURITY = Category.Kind.SECURITY
COEXISTENCE = Category.Kind.COEXISTENCE
FULL, COARSE, NONE = (
    Category.Publication.FULL,
    Category.Publication.COARSE,
    Category.Publication.NONE,
)
DANGER_ES = "Si alguien está en peligro ahora, llame al 123."
DANGER_EN = "If someone is in danger now, call 123."


def option(key: str, name_es: str, name_en: str) -> dict[str, str]:
    return {"key": key, "name_es": name_es, "name_en": name_en}


YES_NO = (
    option("si", "Sí", "Yes"),
    option("no", "No", "No"),
    option("no-se", "No sé", "I don't know"),
)


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    datatype: str  # a Question.Datatype value
    label_es: str
    label_en: str
    help_es: str = ""
    help_en: str = ""
    required: bool = False
    values: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class CategorySpec:
    code: str
    kind: str
    group: tuple[str, str]  # (Spanish, English)
    name: tuple[str, str]
    description: tuple[str, str]
    keywords: str
    publication: str
    iccs_code: str = ""
    urgent: bool = False
    notice: tuple[str, str] = ("", "")
    questions: tuple[QuestionSpec, ...] = field(default_factory=tuple)


WHEN = QuestionSpec(
    "cuando",
    Question.Datatype.DATETIME,
    "¿Cuándo ocurrió?",
    "When did it happen?",
    "Fecha y hora aproximadas.",
    "Approximate date and time.",
)
WEAPONS = QuestionSpec(
    "armas",
    Question.Datatype.SINGLE,
    "¿Había armas?",
    "Were there weapons?",
    values=(
        option("fuego", "Arma de fuego", "Firearm"),
        option("blanca", "Arma blanca (cuchillo, navaja)", "Knife or blade"),
        option("ninguna", "No vi armas", "I saw no weapons"),
    ),
)
CRIMES = ("Delitos", "Crimes")
VIOLENCE = ("Violencia y amenazas", "Violence and threats")
EMERGENCY = ("Emergencias", "Emergencies")
COEXIST = ("Convivencia", "Coexistence")
PLACE = ("Entorno y prevención", "Surroundings and prevention")

SECURITY_CATEGORIES: tuple[CategorySpec, ...] = (
    # --- Emergencies: shown first, notice before anything else -------------------------------
    CategorySpec(
        "sos",
        SECURITY,
        EMERGENCY,
        ("Emergencia / SOS", "Emergency / SOS"),
        (
            "Alguien está en peligro ahora mismo. Se envía su ubicación al centro de comando.",
            "Someone is in danger right now. Your location is sent to the command centre.",
        ),
        "sos emergencia auxilio ayuda peligro urgencia emergency help danger",
        NONE,
        urgent=True,
        notice=(
            DANGER_ES + " Este botón avisa al centro de comando, pero no reemplaza la llamada.",
            DANGER_EN + " This button alerts the command centre but does not replace the call.",
        ),
    ),
    CategorySpec(
        "violencia-en-curso",
        SECURITY,
        EMERGENCY,
        ("Violencia en curso", "Violence happening now"),
        (
            "Una agresión, una pelea con armas o un ataque que está pasando ahora.",
            "An assault, a fight with weapons or an attack happening now.",
        ),
        "agresion pelea ataque golpes disparos violencia ahora assault attack shots",
        NONE,
        iccs_code="0201",
        urgent=True,
        notice=(DANGER_ES, DANGER_EN),
        questions=(WEAPONS,),
    ),
    # --- Crimes ------------------------------------------------------------------------------
    CategorySpec(
        "robo-personas",
        SECURITY,
        CRIMES,
        ("Robo a personas", "Robbery"),
        (
            "Le quitaron algo con violencia o con amenazas (atraco, raponazo con intimidación).",
            "Something was taken from someone by force or threat (mugging, hold-up).",
        ),
        "robo atraco raponazo celular asalto mugging robbery hold-up",
        NONE,
        iccs_code="04011",
        notice=(DANGER_ES, DANGER_EN),
        questions=(WHEN, WEAPONS),
    ),
    CategorySpec(
        "hurto",
        SECURITY,
        CRIMES,
        ("Hurto de objetos personales", "Theft of personal belongings"),
        (
            "Le sacaron algo sin violencia: celular, billetera, bicicleta, bolso.",
            "Something was taken without violence: phone, wallet, bicycle, bag.",
        ),
        "hurto cosquilleo celular billetera bicicleta bolso theft pickpocket phone bicycle",
        NONE,
        iccs_code="05022",
        questions=(
            WHEN,
            QuestionSpec(
                "objeto",
                Question.Datatype.SINGLE,
                "¿Qué se llevaron?",
                "What was taken?",
                values=(
                    option("celular", "Celular", "Mobile phone"),
                    option("bicicleta", "Bicicleta", "Bicycle"),
                    option("dinero", "Dinero o billetera", "Money or wallet"),
                    option("otro", "Otra cosa", "Something else"),
                ),
            ),
        ),
    ),
    CategorySpec(
        "hurto-vehiculo",
        SECURITY,
        CRIMES,
        ("Hurto de vehículo o moto", "Vehicle or motorcycle theft"),
        (
            "Se llevaron un carro, una moto o partes (espejos, llantas, batería).",
            "A car, a motorcycle or parts of one (mirrors, wheels, battery) were stolen.",
        ),
        "hurto carro moto vehiculo autopartes espejos llantas car motorcycle vehicle theft",
        NONE,
        iccs_code="05021",
        questions=(WHEN,),
    ),
    CategorySpec(
        "hurto-residencia",
        SECURITY,
        CRIMES,
        ("Hurto a residencia", "Burglary of a home"),
        (
            "Entraron a una vivienda a robar.",
            "Someone broke into a home to steal.",
        ),
        "hurto residencia casa apartamento vivienda burglary home break-in",
        NONE,
        iccs_code="05012",
        questions=(WHEN,),
    ),
    CategorySpec(
        "hurto-comercio",
        SECURITY,
        CRIMES,
        ("Hurto a comercio", "Theft from a shop or business"),
        (
            "Robo o hurto en una tienda, un local o una empresa.",
            "Theft or robbery at a shop, business premises or company.",
        ),
        "hurto comercio tienda local negocio shop business shoplifting",
        NONE,
        iccs_code="05023",
        questions=(WHEN,),
    ),
    CategorySpec(
        "extorsion",
        SECURITY,
        CRIMES,
        ("Extorsión", "Extortion"),
        (
            "Le piden dinero a cambio de no hacer daño («vacuna», cobros por cuidar, "
            "llamadas de falsos secuestros).",
            "Money demanded under threat (protection money, fake kidnapping calls).",
        ),
        "extorsion vacuna cobro amenaza gota a gota extortion blackmail",
        NONE,
        iccs_code="02051",
        notice=(
            "No pague y no negocie. En Colombia, el GAULA atiende en la línea 165.",
            "Do not pay or negotiate. In Colombia, the GAULA anti-extortion line is 165.",
        ),
        questions=(
            QuestionSpec(
                "medio",
                Question.Datatype.SINGLE,
                "¿Cómo le contactaron?",
                "How did they contact you?",
                values=(
                    option("llamada", "Llamada", "Phone call"),
                    option("mensaje", "Mensaje o red social", "Message or social media"),
                    option("persona", "En persona", "In person"),
                    option("panfleto", "Panfleto o nota", "Leaflet or note"),
                ),
            ),
        ),
    ),
    CategorySpec(
        "venta-drogas",
        SECURITY,
        CRIMES,
        ("Punto de venta de drogas", "Drug-selling point"),
        (
            "Un lugar donde venden drogas (expendio, «olla»).",
            "A place where drugs are sold.",
        ),
        "drogas expendio olla microtrafico jibaro venta drug dealing selling point",
        COARSE,
        iccs_code="060121",
        questions=(
            QuestionSpec(
                "horario",
                Question.Datatype.MULTI,
                "¿A qué horas se ve?",
                "At what times is it seen?",
                values=(
                    option("manana", "Mañana", "Morning"),
                    option("tarde", "Tarde", "Afternoon"),
                    option("noche", "Noche", "Night"),
                ),
            ),
            QuestionSpec(
                "cerca-colegio",
                Question.Datatype.SINGLE,
                "¿Está cerca de un colegio o un parque?",
                "Is it near a school or a park?",
                values=YES_NO,
            ),
        ),
    ),
    CategorySpec(
        "danos-bienes",
        SECURITY,
        CRIMES,
        ("Vandalismo o daño a bienes", "Vandalism or damage to property"),
        (
            "Daños a bienes públicos o privados: vidrios rotos, mobiliario destruido, pintas.",
            "Damage to public or private property: broken glass, destroyed street furniture.",
        ),
        "vandalismo dano destruccion vidrios grafiti pintas vandalism damage graffiti",
        COARSE,
        iccs_code="0504",
    ),
    CategorySpec(
        "armas",
        SECURITY,
        CRIMES,
        ("Porte o uso de armas", "Weapons carried or used"),
        (
            "Personas con armas de fuego o explosivos, o disparos al aire.",
            "People with firearms or explosives, or shots fired in the air.",
        ),
        "armas pistola revolver disparos tiros explosivos guns shots weapons",
        NONE,
        iccs_code="09011",
        notice=(DANGER_ES, DANGER_EN),
    ),
    # --- Violence against people -------------------------------------------------------------
    CategorySpec(
        "lesiones",
        SECURITY,
        VIOLENCE,
        ("Agresión o lesiones personales", "Assault"),
        (
            "Alguien fue golpeado o herido por otra persona.",
            "Someone was hit or injured by another person.",
        ),
        "agresion lesiones golpes pelea herido assault beating injury",
        NONE,
        iccs_code="02011",
        notice=(DANGER_ES, DANGER_EN),
        questions=(WHEN,),
    ),
    CategorySpec(
        "amenazas",
        SECURITY,
        VIOLENCE,
        ("Amenazas", "Threats"),
        (
            "Amenazas contra una persona, una familia o un líder social.",
            "Threats against a person, a family or a community leader.",
        ),
        "amenazas intimidacion panfleto lider social threats intimidation",
        NONE,
        iccs_code="02012",
        notice=(DANGER_ES, DANGER_EN),
    ),
    CategorySpec(
        "violencia-intrafamiliar",
        SECURITY,
        VIOLENCE,
        ("Violencia intrafamiliar o de pareja", "Domestic or partner violence"),
        (
            "Violencia dentro de la familia o de la pareja: golpes, amenazas, encierro.",
            "Violence within a family or between partners: beating, threats, confinement.",
        ),
        "violencia intrafamiliar pareja maltrato mujer ninos domestic partner violence abuse",
        NONE,
        iccs_code="02011",  # ICCS: assault, with the family relationship as a disaggregation
        notice=(
            DANGER_ES + " La Comisaría de Familia atiende también sin cita.",
            DANGER_EN + " The Family Commissary also sees people without an appointment.",
        ),
        questions=(
            QuestionSpec(
                "menores",
                Question.Datatype.SINGLE,
                "¿Hay niñas, niños o adolescentes en riesgo?",
                "Are children or teenagers at risk?",
                values=YES_NO,
            ),
        ),
    ),
    CategorySpec(
        "acoso-sexual",
        SECURITY,
        VIOLENCE,
        ("Acoso sexual en el espacio público", "Sexual harassment in public space"),
        (
            "Comentarios, gestos, exhibicionismo o persecución de carácter sexual en la calle, "
            "el transporte o un parque.",
            "Sexual comments, gestures, exposure or following in the street, transport or a park.",
        ),
        "acoso sexual callejero transporte piropos exhibicionismo sexual harassment street",
        NONE,
        iccs_code="030122",  # non-physical sexual assault (harassment)
        notice=(DANGER_ES, DANGER_EN),
    ),
)

COEXISTENCE_CATEGORIES: tuple[CategorySpec, ...] = (
    # --- Coexistence between neighbours ------------------------------------------------------
    CategorySpec(
        "ruido",
        COEXISTENCE,
        COEXIST,
        ("Ruido excesivo", "Excessive noise"),
        (
            "Música, fiestas, establecimientos u obras con ruido que no deja descansar.",
            "Music, parties, businesses or building works too loud to rest.",
        ),
        "ruido musica fiesta parlantes bulla rumba noise music party loud",
        COARSE,
        questions=(
            QuestionSpec(
                "horario",
                Question.Datatype.SINGLE,
                "¿A qué hora se oye?",
                "When is it heard?",
                values=(
                    option("dia", "De día", "By day"),
                    option("noche", "De noche", "At night"),
                    option("madrugada", "De madrugada", "After midnight"),
                ),
            ),
            QuestionSpec(
                "fuente",
                Question.Datatype.SINGLE,
                "¿De dónde viene?",
                "Where does it come from?",
                values=(
                    option("vivienda", "Una vivienda", "A home"),
                    option("establecimiento", "Un bar o establecimiento", "A bar or business"),
                    option("obra", "Una obra", "Building works"),
                    option("calle", "La calle o vehículos", "The street or vehicles"),
                ),
            ),
        ),
    ),
    CategorySpec(
        "rina",
        COEXISTENCE,
        COEXIST,
        ("Riña o pelea entre vecinos", "Fight between neighbours"),
        (
            "Discusiones o peleas entre vecinos o en la calle que pueden terminar en violencia.",
            "Quarrels or fights between neighbours or in the street that may turn violent.",
        ),
        "rina pelea discusion vecinos conflicto fight quarrel neighbours",
        COARSE,
        notice=(DANGER_ES, DANGER_EN),
        questions=(
            QuestionSpec(
                "hay-armas",
                Question.Datatype.SINGLE,
                "¿Hay armas?",
                "Are there weapons?",
                required=True,
                values=YES_NO,
            ),
        ),
    ),
    CategorySpec(
        "consumo-espacio-publico",
        COEXISTENCE,
        COEXIST,
        ("Consumo de alcohol o drogas en la calle", "Drinking or drug use in public"),
        (
            "Personas que consumen alcohol o drogas en parques, andenes o entradas de colegios.",
            "People drinking or using drugs in parks, on pavements or at school gates.",
        ),
        "consumo alcohol drogas parque calle trago marihuana drinking drugs public",
        COARSE,
    ),
    CategorySpec(
        "invasion-espacio-publico",
        COEXISTENCE,
        COEXIST,
        ("Invasión del espacio público", "Obstructed public space"),
        (
            "Andenes o vías ocupados por vehículos, ventas, materiales u obras.",
            "Pavements or streets blocked by vehicles, stalls, materials or works.",
        ),
        "anden invadido carros parqueados ventas obstruccion pavement blocked obstruction",
        FULL,
    ),
    CategorySpec(
        "animales-peligrosos",
        COEXISTENCE,
        COEXIST,
        ("Animales peligrosos o sueltos", "Dangerous or loose animals"),
        (
            "Perros que atacan o andan sueltos sin control, animales que ponen en riesgo a "
            "las personas.",
            "Dogs that attack or roam out of control, animals that put people at risk.",
        ),
        "perro bravo suelto ataque mordedura animal dangerous dog loose bite",
        COARSE,
        questions=(
            QuestionSpec(
                "animal",
                Question.Datatype.STRING,
                "¿Qué animal es?",
                "What animal is it?",
            ),
        ),
    ),
    # --- The place itself (CPTED: what invites crime or fear) --------------------------------
    CategorySpec(
        "alumbrado",
        COEXISTENCE,
        PLACE,
        ("Alumbrado público dañado", "Broken street lighting"),
        (
            "Postes o luminarias apagadas o intermitentes que dejan la calle a oscuras.",
            "Street lights that are out or flickering and leave the street dark.",
        ),
        "alumbrado poste luz lampara oscuro luminaria street light lamp dark",
        FULL,
        questions=(
            QuestionSpec(
                "numero-poste",
                Question.Datatype.STRING,
                "Número del poste",
                "Number on the pole",
                "Si lo ve: va pintado o en una placa en el poste.",
                "If you can see it: painted or on a plate on the pole.",
            ),
        ),
    ),
    CategorySpec(
        "lote-abandonado",
        COEXISTENCE,
        PLACE,
        ("Lote abandonado o baldío", "Abandoned lot"),
        (
            "Lotes o casas abandonadas, sin cerramiento, usados para esconderse o botar basura.",
            "Abandoned lots or houses, unfenced, used to hide or to dump rubbish.",
        ),
        "lote baldio abandonado casa abandonada enmontado abandoned lot derelict",
        FULL,
    ),
    CategorySpec(
        "basuras",
        COEXISTENCE,
        PLACE,
        ("Basuras o escombros", "Rubbish or rubble"),
        (
            "Basura, escombros o muebles viejos botados en la calle, un parque o un caño.",
            "Rubbish, rubble or old furniture dumped in the street, a park or a stream.",
        ),
        "basura escombros botadero desechos rubbish rubble dumping litter",
        FULL,
    ),
    CategorySpec(
        "parque-mal-estado",
        COEXISTENCE,
        PLACE,
        ("Parque o zona verde en mal estado", "Park or green area in bad repair"),
        (
            "Juegos rotos, pasto alto, bancas dañadas o cerramientos caídos.",
            "Broken play equipment, long grass, damaged benches or fallen fences.",
        ),
        "parque zona verde juegos pasto bancas park playground grass benches",
        FULL,
    ),
    CategorySpec(
        "visibilidad",
        COEXISTENCE,
        PLACE,
        ("Lugar sin visibilidad", "Place that cannot be seen"),
        (
            "Muros, árboles o maleza que tapan la vista y crean lugares donde esconderse.",
            "Walls, trees or undergrowth that block the view and create hiding places.",
        ),
        "visibilidad muro arbol maleza escondite oscuro visibility hiding place undergrowth",
        FULL,
    ),
    CategorySpec(
        "camara-danada",
        COEXISTENCE,
        PLACE,
        ("Cámara de seguridad dañada", "Broken security camera"),
        (
            "Una cámara de la red de seguridad que está dañada, caída o tapada.",
            "A camera of the security network that is broken, fallen or covered.",
        ),
        "camara seguridad danada caida tapada cctv camera broken",
        FULL,
    ),
)

CATALOGUE: tuple[CategorySpec, ...] = SECURITY_CATEGORIES + COEXISTENCE_CATEGORIES


@dataclass
class CatalogueCounts:
    """What ``do_install_catalogue`` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    questions_created: int = 0
    questions_updated: int = 0


def _category_fields(spec: CategorySpec, order: int) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "group_es": spec.group[0],
        "group_en": spec.group[1],
        "name_es": spec.name[0],
        "name_en": spec.name[1],
        "description_es": spec.description[0],
        "description_en": spec.description[1],
        "keywords": spec.keywords,
        "iccs_code": spec.iccs_code,
        "urgent": spec.urgent,
        "notice_es": spec.notice[0],
        "notice_en": spec.notice[1],
        "publication": spec.publication,
        "order": order,
    }


def _question_fields(spec: QuestionSpec, order: int) -> dict[str, Any]:
    return {
        "datatype": spec.datatype,
        "label_es": spec.label_es,
        "label_en": spec.label_en,
        "help_es": spec.help_es,
        "help_en": spec.help_en,
        "required": spec.required,
        "values": list(spec.values),
        "order": order,
    }


def _apply(obj: Any, fields: dict[str, Any]) -> bool:
    """Set ``fields`` on ``obj`` and save the ones that differ; True when something changed."""
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, fields[name])
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


def _install_questions(category: Category, spec: CategorySpec, counts: CatalogueCounts) -> bool:
    existing = {q.code: q for q in category.questions.all()}
    changed = False
    for order, question in enumerate(spec.questions, start=1):
        fields = _question_fields(question, order)
        found = existing.get(question.code)
        if found is None:
            Question.objects.create(category=category, code=question.code, **fields)
            counts.questions_created += 1
            changed = True
        elif _apply(found, fields):
            counts.questions_updated += 1
            changed = True
    return changed


def do_install_catalogue(
    actor: User | None, *, catalogue: tuple[CategorySpec, ...] = CATALOGUE
) -> CatalogueCounts:
    """Add or update every category of ``catalogue`` by code; delete nothing.

    The caller holds the transaction. ``actor`` is who ran it (None for the command line).
    """
    counts = CatalogueCounts()
    existing = {c.code: c for c in Category.objects.filter(code__in=[s.code for s in catalogue])}
    for position, spec in enumerate(catalogue, start=1):
        fields = _category_fields(spec, order=position * 10)
        category = existing.get(spec.code)
        if category is None:
            category = Category.objects.create(code=spec.code, **fields)
            counts.created += 1
            _install_questions(category, spec, counts)
            continue
        changed = _apply(category, fields)
        changed = _install_questions(category, spec, counts) or changed
        if changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts
