/**
 * Pluggy's two-level category tree (8-digit ids: `AABB0000`, the root of `AABBxxxx` is `AA000000`).
 * The simulator serves it from `GET /categories`; the app's default local tree maps onto these ids.
 */
export interface SimCategory {
  id: string;
  description: string;
  descriptionTranslated: string;
  parentId: string | null;
}

const TREE: Array<[string, string, string, Array<[string, string, string]>]> = [
  ["01000000", "Income", "Renda", [
    ["01010000", "Salary", "Salário"],
    ["01020000", "Retirement", "Aposentadoria"],
    ["01030000", "Entrepreneurial activities", "Atividades empresariais"],
    ["01040000", "Government aid", "Auxílio do governo"],
    ["01050000", "Non-recurring income", "Renda não-recorrente"],
  ]],
  ["02000000", "Loans and financing", "Empréstimos e financiamentos", [
    ["02010000", "Late payment and overdraft costs", "Atraso e cheque especial"],
    ["02020000", "Interests charged", "Juros cobrados"],
    ["02030000", "Financing", "Financiamento"],
    ["02040000", "Loans", "Empréstimos"],
  ]],
  ["03000000", "Investments", "Investimentos", [
    ["03010000", "Automatic investment", "Investimento automático"],
    ["03020000", "Fixed income", "Renda fixa"],
    ["03030000", "Mutual funds", "Fundos multimercado"],
    ["03040000", "Variable income", "Renda variável"],
    ["03050000", "Proceeds interests and dividends", "Juros e dividendos"],
    ["03060000", "Pension", "Previdência"],
  ]],
  ["04000000", "Same person transfer", "Transferência mesma titularidade", [
    ["04010000", "Same person transfer - Cash", "Transferência mesma titularidade - Dinheiro"],
    ["04020000", "Same person transfer - PIX", "Transferência mesma titularidade - PIX"],
    ["04030000", "Same person transfer - TED", "Transferência mesma titularidade - TED"],
  ]],
  ["05000000", "Transfers", "Transferências", [
    ["05010000", "Transfer - Bank slip", "Transferência - Boleto bancário"],
    ["05020000", "Transfer - Cash", "Transferência - Dinheiro"],
    ["05030000", "Transfer - Check", "Transferência - Cheque"],
    ["05040000", "Transfer - DOC", "Transferência - DOC"],
    ["05050000", "Transfer - Foreign exchange", "Transferência - Câmbio"],
    ["05060000", "Transfer - Internal", "Transferência - Mesma instituição"],
    ["05070000", "Transfer - PIX", "Transferência - PIX"],
    ["05080000", "Transfer - TED", "Transferência - TED"],
    ["05090000", "Third party transfers", "Transferências para terceiros"],
    ["05100000", "Credit card payment", "Pagamento de cartão de crédito"],
  ]],
  ["06000000", "Legal obligations", "Obrigações legais", [
    ["06010000", "Blocked balances", "Saldo bloqueado"],
    ["06020000", "Alimony", "Pensão alimentícia"],
  ]],
  ["07000000", "Services", "Serviços", [
    ["07010000", "Telecommunications", "Telecomunicações"],
    ["07020000", "Education", "Educação"],
    ["07030000", "Wellness and fitness", "Bem-estar e academia"],
  ]],
  ["08000000", "Shopping", "Compras", [
    ["08010000", "Online shopping", "Compras online"],
    ["08020000", "Electronics", "Eletrônicos"],
    ["08030000", "Pet supplies and vet", "Pet shop e veterinário"],
    ["08040000", "Clothing", "Vestuário"],
    ["08050000", "Houseware", "Casa e decoração"],
  ]],
  ["09000000", "Digital services", "Serviços digitais", [
    ["09010000", "Gaming", "Jogos"],
    ["09020000", "Video streaming", "Streaming de vídeo"],
    ["09030000", "Music streaming", "Streaming de música"],
  ]],
  ["10000000", "Groceries", "Mercado", []],
  ["11000000", "Food and drinks", "Alimentação", [
    ["11010000", "Eating out", "Restaurantes"],
    ["11020000", "Food delivery", "Delivery de comida"],
  ]],
  ["12000000", "Travel", "Viagens", [
    ["12010000", "Airport and airlines", "Aeroporto e companhias aéreas"],
    ["12020000", "Accomodation", "Hospedagem"],
    ["12030000", "Mileage programs", "Programas de milhagem"],
    ["12040000", "Bus tickets", "Passagem de ônibus"],
  ]],
  ["13000000", "Donations", "Doações", []],
  ["14000000", "Gambling", "Apostas", [
    ["14010000", "Lottery", "Loteria"],
    ["14020000", "Online bet", "Apostas online"],
  ]],
  ["15000000", "Taxes", "Impostos", [
    ["15010000", "Income taxes", "Imposto de renda"],
    ["15020000", "Tax on financial operations", "IOF"],
    ["15030000", "Real estate taxes", "IPTU"],
    ["15040000", "Vehicle taxes", "IPVA"],
  ]],
  ["16000000", "Bank fees", "Tarifas bancárias", [
    ["16010000", "Account fees", "Tarifas de conta"],
    ["16020000", "Wire transfer fees and ATM fees", "Tarifas de transferência e saque"],
    ["16030000", "Credit card fees", "Tarifas de cartão de crédito"],
  ]],
  ["17000000", "Housing", "Moradia", [
    ["17010000", "Rent", "Aluguel"],
    ["17020000", "Utilities", "Contas de consumo"],
    ["17030000", "Home maintenance", "Manutenção da casa"],
  ]],
  ["18000000", "Healthcare", "Saúde", [
    ["18010000", "Dentist", "Dentista"],
    ["18020000", "Pharmacy", "Farmácia"],
    ["18030000", "Optometry", "Ótica"],
    ["18040000", "Hospital clinics and labs", "Hospitais, clínicas e laboratórios"],
  ]],
  ["19000000", "Transportation", "Transporte", [
    ["19010000", "Taxi and ride-hailing", "Táxi e transporte por aplicativo"],
    ["19020000", "Public transportation", "Transporte público"],
    ["19030000", "Car rental", "Aluguel de veículos"],
    ["19040000", "Bicycle", "Bicicleta"],
    ["19050000", "Gas stations", "Postos de gasolina"],
    ["19060000", "Parking", "Estacionamento"],
  ]],
  ["20000000", "Insurance", "Seguros", [
    ["20010000", "Life insurance", "Seguro de vida"],
    ["20020000", "Home insurance", "Seguro residencial"],
    ["20030000", "Health insurance", "Plano de saúde"],
    ["20040000", "Vehicle insurance", "Seguro de veículo"],
  ]],
  ["21000000", "Leisure", "Lazer", [
    ["21010000", "Sports", "Esportes"],
    ["21020000", "Tickets", "Ingressos"],
  ]],
  ["99999999", "Other", "Outros", []],
];

/** The flat list Pluggy returns: roots first, each child with its parent id. */
export const PLUGGY_CATEGORIES: SimCategory[] = TREE.flatMap(([id, description, translated, children]) => [
  { id, description, descriptionTranslated: translated, parentId: null },
  ...children.map(([childId, childDescription, childTranslated]) => ({
    id: childId,
    description: childDescription,
    descriptionTranslated: childTranslated,
    parentId: id,
  })),
]);
